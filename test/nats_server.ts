/**
 * A real nats-server (Debian's package) for the JetStream tests and the
 * bench: on 127.0.0.1, a free port, JetStream in a temporary folder; it can
 * be stopped and started again on the same port and folder (a broker
 * restart), and is removed with its folder by `close`.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, connect as connectTcp } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const NATS_SERVER = ["/usr/sbin/nats-server", "/usr/bin/nats-server"].find((p) => spawnSync(p, ["--version"]).status === 0);

export class NatsServer {
  private child?: ChildProcess;
  private constructor(readonly port: number, readonly folder: string) {}

  static async start(): Promise<NatsServer> {
    if (!NATS_SERVER) throw new Error("nats-server is not installed (apt-get install nats-server)");
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const server = new NatsServer(port, mkdtempSync(join(tmpdir(), "dl-nats-")));
    await server.up();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts the server process and waits until it accepts connections. */
  async up(): Promise<void> {
    this.child = spawn(NATS_SERVER!, ["-js", "-a", "127.0.0.1", "-p", String(this.port), "-sd", this.folder], { stdio: "ignore" });
    for (let i = 0; i < 100; i++) {
      if (await accepts(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`nats-server did not start on port ${this.port}`);
  }

  /** Kills the server process (SIGKILL: a crash, not a shutdown). */
  async down(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  async close(): Promise<void> {
    await this.down();
    rmSync(this.folder, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
