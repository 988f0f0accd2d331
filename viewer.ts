/**
 * diffusion-life/viewer: the live viewer — a session that turns frames into
 * events, a web app (page, event stream, images, the hovered node's local
 * latent basis) and a loopback HTTP server for Node, Deno and Bun.
 *
 * @module
 */
export { type LiveOptions, runLive } from "./src/viewer/run_live.ts";
export { type ViewerEvent, type ViewName, ViewerSession } from "./src/viewer/viewer_session.ts";
export { type ViewerAppOptions, type ViewerAsset, type ViewerAssets, viewerApp } from "./src/viewer/app.ts";
export { type Handler, type RunningServer, serve, type ServeOptions } from "./src/runtime/server.ts";
export { startViewer, viewerAssets } from "./src/viewer/start.ts";
export { BasisPanel, type BasisPanelOptions } from "./src/viewer/basis_panel.ts";
