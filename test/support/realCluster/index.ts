// A real Kubernetes control plane for tests: etcd and kube-apiserver (built from their Go modules
// by `npm run tools`) on loopback, with per-run ports and data directories, RBAC, ServiceAccount
// signing keys (TokenRequest), client-certificate admin access, and Secrets sealed through our
// test KMS plugin (KMS v2, or KMS v1 under its feature gate) over a unix socket. The plugin's key
// can be rotated from the test, and every stored value can be read back raw from etcd. On demand,
// a kube-controller-manager with chosen controllers runs against it (startControllerManager).
// Every process is stopped by stop(), and killed when the test process exits in any way.

import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { EtcdReader } from "./etcd";
import { ClientCertificate, ClusterPki } from "./pki";
import { freePort, freePorts, ManagedProcess, startProcess, toolPath, waitFor } from "./processes";
import { sealingOf, Sealing } from "./sealed";

export type KmsApi = "v1" | "v2";
export { sealingOf };
export type { Sealing, ClientCertificate };

export interface RealClusterOptions {
    /** Seal Secrets through the test KMS plugin from the start; default: no encryption until enableEncryption(). */
    kms?: KmsApi;
    /** More kube-apiserver flags (e.g. "--etcd-compaction-interval=10s"); feature gates go in featureGates. */
    apiserverFlags?: string[];
    /** kube-apiserver feature gates, e.g. "ListFromCacheSnapshot=false"; merged with KMSv1=true under KMS v1. */
    featureGates?: string[];
}

export interface ApiAnswer {
    status: number;
    body: string;
    json<T = Record<string, unknown>>(): T;
}

/** Credentials for one request: a client certificate, or a bearer token. */
export type Credential = ClientCertificate | { token: string };

const PROBE_NAMESPACE = "kms-rotation-probe";

export class RealCluster {
    readonly etcd: EtcdReader;
    readonly admin: ClientCertificate;
    private apiserver?: ManagedProcess;
    private plugin?: ManagedProcess;
    private controllerManager?: ManagedProcess;
    private kms?: KmsApi;
    private apiPort = 0;
    private flags: string[];
    private featureGates: string[];

    private constructor(
        readonly dir: string,
        readonly pki: ClusterPki,
        private readonly etcdProcess: ManagedProcess,
        readonly etcdUrl: string,
        options: RealClusterOptions,
    ) {
        this.etcd = new EtcdReader(etcdUrl);
        this.admin = pki.clientCertificate("test-admin", ["system:masters"]);
        this.flags = options.apiserverFlags ?? [];
        this.featureGates = options.featureGates ?? [];
    }

    static async start(options: RealClusterOptions = {}): Promise<RealCluster> {
        // Short: the KMS plugin's unix socket path must fit in 108 bytes.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rc-"));
        let etcd: ManagedProcess | undefined;
        let cluster: RealCluster | undefined;
        try {
            const pki = new ClusterPki(path.join(dir, "pki"));
            const [clientPort, peerPort] = await freePorts(2);
            const etcdUrl = `http://127.0.0.1:${clientPort}`;
            const peerUrl = `http://127.0.0.1:${peerPort}`;
            etcd = startProcess("etcd", toolPath("etcd", "etcd"), [
                "--name=test",
                `--data-dir=${path.join(dir, "etcd")}`,
                `--listen-client-urls=${etcdUrl}`,
                `--advertise-client-urls=${etcdUrl}`,
                `--listen-peer-urls=${peerUrl}`,
                `--initial-advertise-peer-urls=${peerUrl}`,
                `--initial-cluster=test=${peerUrl}`,
                "--log-level=warn",
                "--quota-backend-bytes=4294967296",
            ]);
            const etcdProcess = etcd;
            await waitFor("etcd to be healthy", async () => (await fetch(`${etcdUrl}/health`, { signal: AbortSignal.timeout(2000) })).ok, {
                timeoutMs: 30_000,
                process: etcdProcess,
            });
            cluster = new RealCluster(dir, pki, etcdProcess, etcdUrl, options);
            if (options.kms) await cluster.startPlugin(options.kms);
            await cluster.startApiserver();
            return cluster;
        } catch (err) {
            // Whatever started is stopped: the plugin and kube-apiserver too, when one of them failed to come up.
            if (cluster) await cluster.stop();
            else await etcd?.stop();
            fs.rmSync(dir, { recursive: true, force: true });
            throw err;
        }
    }

    get url(): string {
        return `https://127.0.0.1:${this.apiPort}`;
    }

    /** The serving certificate bundle kube-apiserver made for itself (its CA included). */
    get servingCaPem(): string {
        return fs.readFileSync(path.join(this.dir, "serving", "apiserver.crt"), "utf8");
    }

    private get socket(): string {
        return path.join(this.dir, "kms.sock");
    }

    get keyStateFile(): string {
        return path.join(this.dir, "kms-key-version");
    }

    private async startPlugin(api: KmsApi): Promise<void> {
        await this.plugin?.stop();
        fs.rmSync(this.socket, { force: true });
        this.plugin = startProcess(`test-kms-plugin (KMS ${api})`, toolPath("kube", "test-kms-plugin"), [
            `--listen=unix://${this.socket}`,
            `--api=${api}`,
            `--state-file=${this.keyStateFile}`,
        ]);
        const plugin = this.plugin;
        await waitFor("the KMS plugin's socket", async () => fs.existsSync(this.socket), { timeoutMs: 20_000, intervalMs: 50, process: plugin });
        this.kms = api;
    }

    private encryptionConfig(api: KmsApi): string {
        const file = path.join(this.dir, `encryption-${api}.yaml`);
        const kms =
            api === "v2"
                ? `apiVersion: v2\n          name: test-kms\n          endpoint: unix://${this.socket}\n          timeout: 10s`
                : `apiVersion: v1\n          name: test-kms\n          endpoint: unix://${this.socket}\n          cachesize: 1000\n          timeout: 10s`;
        fs.writeFileSync(
            file,
            [
                "apiVersion: apiserver.config.k8s.io/v1",
                "kind: EncryptionConfiguration",
                "resources:",
                "  - resources: [secrets]",
                "    providers:",
                "      - kms:",
                `          ${kms}`,
                "      - identity: {}",
                "",
            ].join("\n"),
        );
        return file;
    }

    private async startApiserver(): Promise<void> {
        this.apiPort = await freePort();
        const args = [
            `--etcd-servers=${this.etcdUrl}`,
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            `--secure-port=${this.apiPort}`,
            `--cert-dir=${path.join(this.dir, "serving")}`,
            `--client-ca-file=${this.pki.caCertFile}`,
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            `--service-account-key-file=${this.pki.serviceAccountPublicKeyFile}`,
            `--service-account-signing-key-file=${this.pki.serviceAccountKeyFile}`,
            "--service-cluster-ip-range=10.96.0.0/24",
            "--enable-priority-and-fairness=false",
            "--profiling=false",
            ...(this.kms ? [`--encryption-provider-config=${this.encryptionConfig(this.kms)}`] : []),
            ...this.featureGateFlag(),
            ...this.flags,
        ];
        this.apiserver = startProcess("kube-apiserver", toolPath("kube", "kube-apiserver"), args);
        const apiserver = this.apiserver;
        await waitFor("kube-apiserver to be ready", async () => (await this.request("GET", "/readyz")).status === 200, {
            timeoutMs: 120_000,
            intervalMs: 500,
            process: apiserver,
        });
    }

    private featureGateFlag(): string[] {
        const gates = [...(this.kms === "v1" ? ["KMSv1=true"] : []), ...this.featureGates];
        return gates.length > 0 ? [`--feature-gates=${gates.join(",")}`] : [];
    }

    /** Restarts kube-apiserver (same etcd, same data) sealing Secrets through the test KMS plugin from now on. */
    async enableEncryption(api: KmsApi): Promise<void> {
        // The restarted apiserver listens on another port, which a running controller manager would not follow.
        if (this.controllerManager) throw new Error("enableEncryption() moves kube-apiserver to a new port: start the controller manager after it");
        await this.apiserver?.stop();
        await this.startPlugin(api);
        await this.startApiserver();
    }

    /** The key version the plugin seals with from now on (the file it re-reads on every call). */
    rotateKey(version: number): void {
        fs.writeFileSync(this.keyStateFile, `${version}\n`);
    }

    /**
     * Waits for evidence, not a delay, that the apiserver seals new writes with `version`: a probe
     * Secret is written again (a new annotation value each time) until etcd shows it sealed so.
     * KMS v1 asks the plugin on every write; KMS v2 notices a new key ID through the plugin's Status,
     * which the apiserver asks once a minute, and on a /readyz whose 20-second result cache has expired.
     */
    async waitUntilSealingWith(version: number, timeoutMs = 150_000): Promise<void> {
        await this.ensureNamespace(PROBE_NAMESPACE);
        let round = 0;
        await waitFor(
            `kube-apiserver to seal with key version ${version}`,
            async () => {
                round++;
                if (this.kms === "v2") await this.request("GET", "/readyz/kms-providers");
                const body = { metadata: { name: "probe", annotations: { round: String(round) } }, data: { v: Buffer.from("probe").toString("base64") } };
                const put = await this.request("PUT", `/api/v1/namespaces/${PROBE_NAMESPACE}/secrets/probe`, body);
                if (put.status === 404) await this.request("POST", `/api/v1/namespaces/${PROBE_NAMESPACE}/secrets`, body);
                const stored = await this.etcd.get(`/registry/secrets/${PROBE_NAMESPACE}/probe`);
                return stored !== undefined && sealingOf(stored.value).keyVersion === version;
            },
            { timeoutMs, intervalMs: 2000, process: this.apiserver },
        );
    }

    async ensureNamespace(name: string): Promise<void> {
        const answer = await this.request("POST", "/api/v1/namespaces", { metadata: { name } });
        if (answer.status !== 201 && answer.status !== 409) throw new Error(`creating namespace ${name}: HTTP ${answer.status} ${answer.body}`);
    }

    /** One API request, as the admin unless another credential is given. */
    request(
        method: string,
        pathname: string,
        body?: unknown,
        credential: Credential = this.admin,
        contentType = "application/json",
        accept = "application/json",
    ): Promise<ApiAnswer> {
        const auth =
            "token" in credential
                ? { headers: { Authorization: `Bearer ${credential.token}` } }
                : { cert: fs.readFileSync(credential.certFile), key: fs.readFileSync(credential.keyFile) };
        const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
        return new Promise((resolve, reject) => {
            const req = https.request(
                {
                    host: "127.0.0.1",
                    port: this.apiPort,
                    path: pathname,
                    method,
                    rejectUnauthorized: false,
                    timeout: 30_000,
                    ...auth,
                    headers: { Accept: accept, ...(payload ? { "Content-Type": contentType } : {}), ...("headers" in auth ? auth.headers : {}) },
                },
                (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("end", () => {
                        const text = Buffer.concat(chunks).toString("utf8");
                        resolve({ status: res.statusCode ?? 0, body: text, json: <T>() => JSON.parse(text) as T });
                    });
                },
            );
            req.on("timeout", () => req.destroy(new Error(`${method} ${pathname}: no answer within 30 s`)));
            req.on("error", reject);
            if (payload) req.write(payload);
            req.end();
        });
    }

    /** A kubeconfig file for `credential` (default: the admin's client certificate), trusting the apiserver's own CA. */
    writeKubeconfig(file: string, credential: Credential = this.admin): string {
        const user = "token" in credential ? { token: credential.token } : { "client-certificate": credential.certFile, "client-key": credential.keyFile };
        const config = {
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name: "real", cluster: { server: this.url, "certificate-authority-data": Buffer.from(this.servingCaPem).toString("base64") } }],
            users: [{ name: "real", user }],
            contexts: [{ name: "real", context: { cluster: "real", user: "real" } }],
            "current-context": "real",
        };
        fs.writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
        return file;
    }

    /** A kubeconfig (JSON, also valid YAML) with everything inline: what a cloud API hands out for a cluster. */
    inlineKubeconfig(credential: ClientCertificate = this.admin): string {
        const b64 = (file: string) => fs.readFileSync(file).toString("base64");
        return JSON.stringify({
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name: "real", cluster: { server: this.url, "certificate-authority-data": Buffer.from(this.servingCaPem).toString("base64") } }],
            users: [{ name: "real", user: { "client-certificate-data": b64(credential.certFile), "client-key-data": b64(credential.keyFile) } }],
            contexts: [{ name: "real", context: { cluster: "real", user: "real" } }],
            "current-context": "real",
        });
    }

    /** How every Secret in etcd is sealed, by "namespace/name". */
    async secretSealings(): Promise<Map<string, Sealing>> {
        const stored = await this.etcd.list("/registry/secrets/");
        return new Map(stored.map((kv) => [kv.key.slice("/registry/secrets/".length), sealingOf(kv.value)]));
    }

    /** The apiserver's own count of requests whose metric labels match every pattern (apiserver_request_total). */
    requestCount(...labels: RegExp[]): Promise<number> {
        return this.metricSum("apiserver_request_total", ...labels);
    }

    /** The sum of a counter from the apiserver's /metrics over the series whose labels match every pattern. */
    async metricSum(name: string, ...labels: RegExp[]): Promise<number> {
        const metrics = (await this.request("GET", "/metrics")).body;
        return metrics
            .split("\n")
            .filter((line) => line.startsWith(`${name}{`) && labels.every((label) => label.test(line)))
            .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
    }

    /**
     * Starts kube-controller-manager running only `controllers` (full names, e.g. "garbage-collector-controller")
     * with `featureGates` (e.g. "StorageVersionMigrator=true"), as the admin (a kubeconfig in the cluster's
     * directory), without leader election or a serving port; stopped by stop(). Resolves once each of them
     * has started (its "Controller starting..." line at -v=1); fails at once if one is skipped (e.g. its
     * feature gate is off) or the process exits.
     */
    async startControllerManager(controllers: string[], featureGates: string[] = []): Promise<void> {
        if (this.controllerManager) throw new Error("kube-controller-manager is already running");
        const kubeconfig = this.writeKubeconfig(path.join(this.dir, "controller-manager.kubeconfig"));
        const manager = startProcess("kube-controller-manager", toolPath("kube", "kube-controller-manager"), [
            `--kubeconfig=${kubeconfig}`,
            "--leader-elect=false",
            "--secure-port=0",
            `--controllers=${controllers.join(",")}`,
            "--use-service-account-credentials=false",
            ...(featureGates.length > 0 ? [`--feature-gates=${featureGates.join(",")}`] : []),
            "--v=1",
        ]);
        this.controllerManager = manager;
        const started = new Set<string>();
        const skipped = new Set<string>();
        let carry = "";
        const scan = (chunk: Buffer) => {
            const lines = (carry + chunk.toString("utf8")).split("\n");
            carry = lines.pop() ?? "";
            for (const line of lines) {
                const name = /controller="([^"]+)"/.exec(line)?.[1];
                if (name && line.includes('"Controller starting..."')) started.add(name);
                if (name && /"(Warning: skipping controller|Error initializing a controller)"/.test(line)) skipped.add(name);
            }
        };
        manager.child.stdout?.on("data", scan);
        manager.child.stderr?.on("data", scan);
        try {
            await waitFor(
                `kube-controller-manager to start ${controllers.join(", ")}`,
                async () => controllers.every((c) => started.has(c)) || controllers.some((c) => skipped.has(c)),
                { timeoutMs: 60_000, process: manager },
            );
            const lost = controllers.filter((c) => skipped.has(c));
            if (lost.length > 0) throw new Error(`kube-controller-manager skipped ${lost.join(", ")}:\n${manager.output().slice(-4000)}`);
        } catch (err) {
            await manager.stop();
            this.controllerManager = undefined;
            throw err;
        }
    }

    /** CPU seconds (user + system) kube-apiserver has used so far, from /proc (Linux). */
    apiserverCpuSeconds(): number {
        const pid = this.apiserver?.child.pid;
        if (pid === undefined) throw new Error("kube-apiserver is not running");
        // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks, counted after the parenthesized command name.
        const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
        const ticksPerSecond = 100;
        return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
    }

    apiserverOutput(): string {
        return this.apiserver?.output() ?? "";
    }

    controllerManagerOutput(): string {
        return this.controllerManager?.output() ?? "";
    }

    async stop(): Promise<void> {
        await this.controllerManager?.stop();
        await this.apiserver?.stop();
        await this.plugin?.stop();
        await this.etcdProcess.stop();
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
