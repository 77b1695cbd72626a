import * as path from "node:path";

/** The checkout's root directory: every test resolves project paths from here. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");
