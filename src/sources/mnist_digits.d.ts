/** One loader per class (0..9): the JSON module of that class's digits in the `mnist` package. */
export declare const classLoaders: ReadonlyArray<() => Promise<{ default: { data: number[] } }>>;
