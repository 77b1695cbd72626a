// Key material for the real test cluster, made with the openssl CLI: a client CA, client
// certificates (admin = group system:masters), and the ServiceAccount signing key pair.
// kube-apiserver makes its own self-signed serving certificate in --cert-dir.

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

function openssl(args: string[], cwd: string): void {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
}

export interface ClientCertificate {
    certFile: string;
    keyFile: string;
}

export class ClusterPki {
    readonly caCertFile: string;
    readonly serviceAccountKeyFile: string;
    readonly serviceAccountPublicKeyFile: string;

    constructor(readonly dir: string) {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=ask-test-client-ca"], dir);
        openssl(["genrsa", "-out", "sa.key", "2048"], dir);
        openssl(["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
        this.caCertFile = path.join(dir, "ca.crt");
        this.serviceAccountKeyFile = path.join(dir, "sa.key");
        this.serviceAccountPublicKeyFile = path.join(dir, "sa.pub");
    }

    /** A client certificate for user `name` in `groups`, signed by the client CA. */
    clientCertificate(name: string, groups: string[] = []): ClientCertificate {
        const subject = `/CN=${name}${groups.map((g) => `/O=${g}`).join("")}`;
        const base = name.replace(/[^a-zA-Z0-9_-]/g, "_");
        openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${base}.key`, "-out", `${base}.csr`, "-subj", subject], this.dir);
        openssl(["x509", "-req", "-in", `${base}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${base}.crt`, "-days", "2"], this.dir);
        return { certFile: path.join(this.dir, `${base}.crt`), keyFile: path.join(this.dir, `${base}.key`) };
    }
}
