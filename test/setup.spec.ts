// Versions and setup agree with each other: what `npm ci` installs runs on the
// Node the project declares, the pack installs from its own lock file, and the
// program type-checks with production dependencies only.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "./support/repo";

const ROOT = REPO_ROOT;
const json = (file: string) => JSON.parse(fs.readFileSync(path.join(ROOT, file), "utf8"));
/** The lowest major a ">=N" engines range allows. */
const minMajor = (range: string) => Number(/>=\s*(\d+)/.exec(range)?.[1]);

describe("versions and setup", () => {
    const pkg = json("package.json");

    it("declares a Node that can require() the ES modules the providers load (require(esm) is on by default from 20.19)", () => {
        // components/kube/tokenRequest.ts require()s @kubernetes/client-node, an ES module since 1.x.
        assert.equal(json("node_modules/@kubernetes/client-node/package.json").type, "module");
        const [major, minor] = (/>=\s*(\d+)\.(\d+)/.exec(pkg.engines.node) ?? []).slice(1).map(Number);
        assert.ok(major > 20 || (major === 20 && minor >= 19), `engines.node is ${pkg.engines.node}; Node 20 before 20.19 cannot require() an ES module`);
    });

    it("pins @pulumi/pulumi to a minor whose releases run on the declared Node (3.249+ needs Node 22)", () => {
        assert.match(pkg.dependencies["@pulumi/pulumi"], /^~3\.248\./, "a range reaching 3.249 would need Node >= 22");
        for (const dir of ["node_modules/@pulumi/pulumi", "node_modules/@pulumi/policy", "node_modules/@pulumi/alicloud", "node_modules/@pulumi/kubernetes"]) {
            const engines = json(`${dir}/package.json`).engines?.node;
            if (engines) assert.ok(minMajor(engines) <= minMajor(pkg.engines.node), `${dir} needs Node ${engines}, the project declares ${pkg.engines.node}`);
        }
        assert.ok(Number(process.versions.node.split(".")[0]) >= minMajor(pkg.engines.node));
    });

    it("the policy pack installs reproducibly: its own lock file, the same @pulumi/pulumi pin", () => {
        const pack = json("policy/package.json");
        const lock = json("policy/package-lock.json");
        assert.equal(lock.packages[""].dependencies["@pulumi/policy"], pack.dependencies["@pulumi/policy"]);
        assert.equal(pack.dependencies["@pulumi/pulumi"], pkg.dependencies["@pulumi/pulumi"]);
        assert.match(lock.packages["node_modules/@pulumi/pulumi"].version, /^3\.248\./);
    });

    it("the program's tsconfig needs only production type packages (Pulumi type-checks it without dev dependencies)", () => {
        const tsconfig = json("tsconfig.json");
        for (const types of tsconfig.compilerOptions.types) {
            assert.ok(pkg.dependencies[`@types/${types}`], `@types/${types} must be a dependency, not a dev dependency`);
        }
        assert.ok(!tsconfig.include.some((glob: string) => glob.startsWith("test")), "tests are type-checked by tsconfig.test.json");
        // Pulumi compiles the program with the project's TypeScript (its vendored 3.8 cannot read `satisfies`),
        // and `npm ci` builds dist/ with tsc: both must install without dev dependencies.
        for (const name of ["typescript", "ts-node", "@types/node"]) assert.ok(pkg.dependencies[name], `${name} must be a dependency`);
    });

    it("the README's setup copies the example stack's config instead of overwriting a stack file (its encryptionsalt)", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        assert.match(readme, /pulumi stack init <cluster-name> --copy-config-from dev/);
        assert.doesNotMatch(readme, /cp Pulumi\.dev\.yaml/);
    });
});
