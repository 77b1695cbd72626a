// The Kubernetes provider's kubeconfig holds no credential: its user is the
// cluster-credential exec plugin, which fetches one from Container Service at
// each use. The @pulumi/kubernetes plugin is not installed here, so kubectl (a
// client-go client, as the provider is) is the proof: it runs the helper from a
// copy of the project at another path, through the Alibaba stand-in, against
// the Kubernetes API test server.
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { credentialStatus } from "../../components/cli/clusterCredential";
import { CREDENTIAL_HELPER, execKubeconfig } from "../../components/kube/execKubeconfig";
import { AlibabaStandIn, startAlibabaStandIn } from "../support/alibabaStandIn/index";
import { KubeStandIn, startKubeStandIn } from "../support/kubeStandIn/index";
import { PROJECT_DIR } from "../support/providerHost";

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile(command, args, { ...options, timeout: 60_000 }, (error, stdout, stderr) =>
            resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
        );
    });
}

describe("the credential-free kubeconfig and its cluster-credential helper", function () {
    this.timeout(120_000);
    let kube: KubeStandIn;
    let standIn: AlibabaStandIn;
    let dir: string;
    let clone: string;
    const requestedPrivate: boolean[] = [];

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "cluster-credential-"));
        kube = await startKubeStandIn({ keyVersion: 1 });
        kube.seed(12, { namespaces: ["default", "apps"] });
        const operator = fs.readFileSync(kube.writeKubeconfig(path.join(dir, "operator.yaml")), "utf8");
        standIn = await startAlibabaStandIn({
            regionId: "cn-hangzhou",
            kubeconfig: (_clusterId, _minutes, privateIpAddress) => {
                requestedPrivate.push(privateIpAddress);
                return operator;
            },
        });
        standIn.addCluster({ clusterId: "c0123456789abcdef0123456789abcdef" });
        // A fresh clone at another path: its own dist/, the same installed packages.
        clone = path.join(dir, "elsewhere", "ask-kms-secret-encryption");
        fs.mkdirSync(clone, { recursive: true });
        fs.cpSync(path.join(PROJECT_DIR, "dist"), path.join(clone, "dist"), { recursive: true });
        fs.copyFileSync(path.join(PROJECT_DIR, "package.json"), path.join(clone, "package.json"));
        fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(clone, "node_modules"), "dir");
    });
    after(async () => {
        await standIn?.close();
        await kube?.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    /** The environment the Kubernetes provider (or kubectl) runs in: keys from the environment, never from the kubeconfig. */
    function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
        return {
            PATH: process.env.PATH,
            HOME: dir,
            ALIBABA_CLOUD_CS_ENDPOINT: standIn.csEndpoint,
            ALIBABA_CLOUD_ECS_METADATA_DISABLED: "true",
            ALICLOUD_ACCESS_KEY: standIn.accessKeyId,
            ALICLOUD_SECRET_KEY: standIn.accessKeySecret,
            ...extra,
        };
    }

    function kubeconfigFile(endpoint: "private" | "public"): string {
        const config = execKubeconfig({
            clusterId: "c0123456789abcdef0123456789abcdef",
            region: "cn-hangzhou",
            server: kube.url,
            certificateAuthorityData: Buffer.from(kube.caPem).toString("base64"),
            endpoint,
        });
        const file = path.join(dir, `exec-${endpoint}.json`);
        fs.writeFileSync(file, JSON.stringify(config));
        return file;
    }

    it("holds no credential: no token, certificate or key, only the helper's command", () => {
        const text = fs.readFileSync(kubeconfigFile("public"), "utf8");
        assert.doesNotMatch(text, /token|client-certificate|client-key|secret/i);
        assert.match(text, new RegExp(CREDENTIAL_HELPER.replace(/\./g, "\\.")));
    });

    for (const endpoint of ["private", "public"] as const) {
        it(`kubectl lists Secrets through it from a clone at another path, the helper asking for the ${endpoint} endpoint`, async () => {
            requestedPrivate.length = 0;
            const from = standIn.calls.length;
            const result = await run("kubectl", ["--kubeconfig", kubeconfigFile(endpoint), "get", "secrets", "-A", "-o", "name"], { cwd: clone, env: env() });
            assert.equal(result.code, 0, result.stderr);
            assert.equal(result.stdout.trim().split("\n").length, 12);
            assert.deepEqual(requestedPrivate, [endpoint === "private"]);
            const calls = standIn.calls.slice(from).filter((c) => c.action === "DescribeClusterUserKubeconfig");
            assert.equal(calls.length, 1);
            assert.equal(calls[0].query.PrivateIpAddress ?? "false", String(endpoint === "private"));
            assert.equal(calls[0].accessKeyId, standIn.accessKeyId, "signed by the environment's key");
        });
    }

    it("prints an ExecCredential whose expirationTimestamp makes clients fetch again before it ends", async () => {
        const args = [CREDENTIAL_HELPER, "--cluster-id", "c0123456789abcdef0123456789abcdef", "--region", "cn-hangzhou", "--endpoint", "private"];
        const result = await run("node", args, { cwd: clone, env: env() });
        assert.equal(result.code, 0, result.stderr);
        const credential = JSON.parse(result.stdout);
        assert.equal(credential.kind, "ExecCredential");
        assert.equal(credential.status.token, kube.token);
        const expires = Date.parse(credential.status.expirationTimestamp);
        assert.ok(expires > Date.now() + 50 * 60_000 && expires <= Date.now() + 60 * 60_000, credential.status.expirationTimestamp);
        assert.ok(!result.stdout.includes(standIn.accessKeySecret));
    });

    it("turns a client-certificate kubeconfig (what ACK hands out) into PEM certificate and key data", () => {
        const pem = (label: string) => `-----BEGIN ${label}-----\nMIIBfake\n-----END ${label}-----\n`;
        const kubeconfig = [
            "apiVersion: v1",
            "kind: Config",
            "users:",
            "- name: u",
            "  user:",
            `    client-certificate-data: ${Buffer.from(pem("CERTIFICATE")).toString("base64")}`,
            `    client-key-data: ${Buffer.from(pem("RSA PRIVATE KEY")).toString("base64")}`,
        ].join("\n");
        assert.deepEqual(credentialStatus(kubeconfig), { clientCertificateData: pem("CERTIFICATE"), clientKeyData: pem("RSA PRIVATE KEY") });
    });

    it("never acts as an identity nobody named: a current aliyun CLI profile alone is not used", async () => {
        const home = path.join(dir, "home-with-cli-profile");
        fs.mkdirSync(path.join(home, ".aliyun"), { recursive: true });
        const profile = { name: "other", mode: "AK", access_key_id: standIn.accessKeyId, access_key_secret: standIn.accessKeySecret };
        fs.writeFileSync(path.join(home, ".aliyun", "config.json"), JSON.stringify({ current: "other", profiles: [profile] }));
        const args = [CREDENTIAL_HELPER, "--cluster-id", "c0123456789abcdef0123456789abcdef", "--region", "cn-hangzhou"];
        const from = standIn.calls.length;
        const result = await run("node", args, { cwd: clone, env: env({ HOME: home, ALICLOUD_ACCESS_KEY: "", ALICLOUD_SECRET_KEY: "" }) });
        assert.equal(result.code, 1);
        assert.match(result.stderr, /no Alibaba Cloud credential where this runs: set ALICLOUD_ACCESS_KEY/);
        assert.equal(standIn.calls.length, from, "nothing was called");
        // Named, the same profile is used.
        const named = await run("node", [...args, "--profile", "other"], {
            cwd: clone,
            env: env({ HOME: home, ALICLOUD_ACCESS_KEY: "", ALICLOUD_SECRET_KEY: "" }),
        });
        assert.equal(named.code, 0, named.stderr);
    });

    it("without any credential in its environment, says so on stderr and exits 1 (kubectl then fails, naming it)", async () => {
        const args = [CREDENTIAL_HELPER, "--cluster-id", "c0123456789abcdef0123456789abcdef", "--region", "cn-hangzhou"];
        const bare = env({ ALICLOUD_ACCESS_KEY: "", ALICLOUD_SECRET_KEY: "" });
        const result = await run("node", args, { cwd: clone, env: bare });
        assert.equal(result.code, 1);
        assert.equal(result.stdout, "");
        assert.match(result.stderr, /^cluster-credential: no Alibaba Cloud credential where this runs/);
    });
});
