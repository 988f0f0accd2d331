/** The package's version: the same as package.json's and deno.json's (the consumer test checks all three). */
export const VERSION: string = "0.1.0";
