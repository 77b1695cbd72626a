// Mocha root hook: the host tests run dist/, so refuse to start on a stale build
// (`npm test` builds first; running one file by hand may not have).
import { staleBuildProblem } from "../../components/providers/buildStamp";
import { PROJECT_DIR } from "./providerHost";

export const mochaHooks = {
    beforeAll(): void {
        const problem = staleBuildProblem(PROJECT_DIR);
        if (problem) throw new Error(`stale build: ${problem}`);
    },
};
