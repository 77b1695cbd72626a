// The hostile server's serving certificate: self-signed for 127.0.0.1 and
// localhost, usable as its own CA (generated once per process: RSA keygen is slow).

let certificate: Promise<{ cert: string; key: string }> | undefined;

export function hostileCertificate(): Promise<{ cert: string; key: string }> {
    certificate ??= new Promise((resolve, reject) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- selfsigned is CommonJS only, loaded on first HTTPS start
        const selfsigned = require("selfsigned") as typeof import("selfsigned");
        selfsigned.generate(
            [{ name: "commonName", value: "hostile-kube-apiserver" }],
            {
                keySize: 2048,
                days: 30,
                algorithm: "sha256",
                extensions: [
                    { name: "basicConstraints", cA: true },
                    { name: "keyUsage", keyCertSign: true, digitalSignature: true, keyEncipherment: true },
                    { name: "extKeyUsage", serverAuth: true },
                    {
                        name: "subjectAltName",
                        altNames: [
                            { type: 7, ip: "127.0.0.1" },
                            { type: 2, value: "localhost" },
                        ],
                    },
                ],
            },
            (error, result) => (error ? reject(error) : resolve({ cert: result.cert, key: result.private })),
        );
    });
    return certificate;
}
