/** Bad command-line input: printed with the usage, exit code 2. */
export class UsageError extends Error {}
