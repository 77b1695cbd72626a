// The serialized provider is a shim: Pulumi stores a few lines that load the
// compiled implementation from the program directory's dist/ at run time. So a
// fixed implementation reaches existing resources, the text carries nothing
// closure serialization could break, and a clone at another path works.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SHIM_MARKER } from "../../components/providers/shim";
import { AlibabaStandIn, standInHostEnv, standInStackConfig, startAlibabaStandIn } from "../support/alibabaStandIn/index";
import { PROJECT_DIR, ProviderHost, startProviderHost } from "../support/providerHost";
import { CLUSTER_ENCRYPTION_TYPE, RegisteredDynamicResource, registeredDynamicResources, SECRET_ROTATION_TYPE } from "../support/registered";

describe("the serialized provider shim", function () {
    this.timeout(60_000);
    let registered: Record<string, RegisteredDynamicResource>;
    let standIn: AlibabaStandIn;
    let dir: string;
    const hosts: ProviderHost[] = [];

    before(async () => {
        registered = await registeredDynamicResources();
        standIn = await startAlibabaStandIn({ regionId: "cn-hangzhou" });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "shim-"));
    });
    after(async () => {
        await Promise.all(hosts.map((h) => h.close()));
        await standIn?.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    async function hostIn(cwd: string): Promise<ProviderHost> {
        const host = await startProviderHost({ cwd, env: standInHostEnv(standIn, dir) });
        hosts.push(host);
        const { config, secretKeys } = standInStackConfig(standIn);
        await host.configure(config, secretKeys);
        return host;
    }
    function encryptionInputs(): Record<string, unknown> {
        const r = registered[CLUSTER_ENCRYPTION_TYPE];
        return { ...r.inputs, clusterId: standIn.addCluster().clusterId, kmsKeyId: standIn.addKey().keyId, regionId: "cn-hangzhou" };
    }
    /** A project directory with node_modules (linked) and, optionally, a copy of dist/. */
    function projectCopy(name: string, withDist: boolean): string {
        const copy = path.join(dir, name);
        fs.mkdirSync(copy);
        fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(copy, "node_modules"), "dir");
        fs.copyFileSync(path.join(PROJECT_DIR, "package.json"), path.join(copy, "package.json"));
        if (withDist) fs.cpSync(path.join(PROJECT_DIR, "dist"), path.join(copy, "dist"), { recursive: true });
        return copy;
    }

    it("is small, marked, free of credentials and of relative requires (sizes as stored in state)", () => {
        for (const type of [CLUSTER_ENCRYPTION_TYPE, SECRET_ROTATION_TYPE]) {
            const text = registered[type].providerText;
            assert.ok(text.length < 5000, `${type}: ${text.length} bytes`);
            assert.ok(text.includes(SHIM_MARKER), type);
            assert.doesNotMatch(text, /require\("\.\.?\//, "no relative require: the host resolves against the program directory");
            assert.doesNotMatch(text, /new (Set|Map)\(|extends Error/, "nothing closure serialization drops");
            assert.ok(!text.includes(standIn.accessKeySecret));
        }
    });

    it("runs from a copy of the project at another path (a fresh clone), loading that copy's dist/", async () => {
        const copy = projectCopy("clone-elsewhere", true);
        const host = await hostIn(copy);
        const result = await host.check(registered[CLUSTER_ENCRYPTION_TYPE].urn, {}, encryptionInputs());
        assert.deepEqual(result.failures, []);
    });

    it("from a directory without dist/ (`pulumi destroy -s` outside the project): fails at the first call, naming the project directory and --cwd", async () => {
        const text = registered[CLUSTER_ENCRYPTION_TYPE].providerText;
        assert.ok(text.includes(JSON.stringify(PROJECT_DIR)), "the shim records the project directory");
        const elsewhere = projectCopy("not-built", false);
        const host = await hostIn(elsewhere);
        await assert.rejects(host.check(registered[CLUSTER_ENCRYPTION_TYPE].urn, {}, encryptionInputs()), (e: Error) => {
            assert.match(e.message, /ClusterEncryption: the compiled provider code .*not-built\/dist\/components\/providers\/clusterEncryption\.js is missing/);
            assert.ok(
                e.message.includes(`\`pulumi up\` last ran this program in ${PROJECT_DIR}: run the command there (or add \`--cwd ${PROJECT_DIR}\`)`),
                e.message,
            );
            return true;
        });
    });

    it("in the project directory itself without dist/: says to run npm ci there", async () => {
        // State written where this checkout now is, before `npm ci`: the recorded directory is the current one.
        const copy = projectCopy("fresh-clone", false);
        const text = registered[CLUSTER_ENCRYPTION_TYPE].providerText.split(JSON.stringify(PROJECT_DIR)).join(JSON.stringify(copy));
        const host = await hostIn(copy);
        await assert.rejects(host.check(registered[CLUSTER_ENCRYPTION_TYPE].urn, {}, { ...encryptionInputs(), __provider: text }), (e: Error) => {
            assert.match(e.message, /fresh-clone\/dist\/components\/providers\/clusterEncryption\.js is missing/);
            assert.match(e.message, /Run `npm ci` \(or `npm run build`\) there, then retry\./);
            return true;
        });
    });

    describe("shims stored by earlier releases (compiled paths at the components/ root), run against this build", () => {
        // Captured from the last release before the providers moved to components/providers/: the text
        // existing stacks hold in state, which refresh and destroy run as it is.
        const storedShim = (file: string) => fs.readFileSync(path.join(__dirname, "fixtures", file), "utf8");

        it("ClusterEncryption's old shim loads dist/components/clusterEncryption.js and runs the current preflight", async () => {
            const text = storedShim("ClusterEncryption.shim-v1.js");
            assert.match(text, /"dist\/components\/clusterEncryption\.js"/, "the fixture is the old path");
            const host = await hostIn(PROJECT_DIR);
            const result = await host.check(registered[CLUSTER_ENCRYPTION_TYPE].urn, {}, { ...encryptionInputs(), __provider: text });
            assert.deepEqual(result.failures, []);
            const missing = await host.check(registered[CLUSTER_ENCRYPTION_TYPE].urn, {}, { ...encryptionInputs(), clusterId: "c-missing", __provider: text });
            assert.match(JSON.stringify(missing.failures), /c-missing/, "the current code answered, not an empty stub");
        });

        it("SecretRotation's old shim loads dist/components/rotation.js: refresh and destroy run the current code", async () => {
            const text = storedShim("SecretRotation.shim-v1.js");
            assert.match(text, /"dist\/components\/rotation\.js"/, "the fixture is the old path");
            const host = await hostIn(PROJECT_DIR);
            const r = registered[SECRET_ROTATION_TYPE];
            const props = { ...r.inputs, keyVersion: "v1", verified: true, __provider: text };
            const read = await host.read("c1/secret-rotation", r.urn, props);
            assert.equal(read.props.keyVersion, "v1");
            await host.delete("c1/secret-rotation", r.urn, props);
        });
    });
});
