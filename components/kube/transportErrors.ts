/**
 * Transport failures in plain words: what failed, where, and what to do, in one
 * sentence. The error keeps its `code`, so classification (../reencrypt/errors)
 * still decides retries: a timeout or reset stays retryable, a TLS or
 * certificate problem stays fatal.
 */

const TLS_TRUST_CODES: readonly string[] = [
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "UNABLE_TO_GET_ISSUER_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "CERT_SIGNATURE_FAILURE",
    "CERT_UNTRUSTED",
];

/** A KubernetesApiError or an abort passes through; anything else becomes one plain sentence with its code kept. */
export function plainTransportError(err: unknown, what: string, server: string): unknown {
    if (typeof err !== "object" || err === null) return err;
    const e = err as Error & { code?: unknown; status?: unknown };
    if (typeof e.status === "number" || e.name === "AbortError" || e.code === "EPAGETOOLARGE") return err;
    const code = typeof e.code === "string" ? e.code : "";
    const message = String(e.message ?? "");
    const sentence = explain(code, message, server);
    if (!sentence) return err;
    return Object.assign(new Error(`${what} failed: ${sentence}`), { code });
}

function explain(code: string, message: string, server: string): string | undefined {
    if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || /wrong version number/i.test(message)) {
        return `the server at ${server} did not answer with TLS; it may speak plain HTTP: check the scheme and port of the server URL in the kubeconfig`;
    }
    if (code === "ERR_SSL_PACKET_LENGTH_TOO_LONG" || /packet length too long|http request/i.test(message)) {
        return `the TLS handshake with ${server} failed (the port may serve something else): check the server URL in the kubeconfig`;
    }
    if (code === "HPE_INVALID_CONSTANT" || code.startsWith("HPE_")) {
        return `the answer from ${server} is not HTTP (${code}): check that the server URL points at the API server, with https://`;
    }
    if (TLS_TRUST_CODES.includes(code)) {
        return `the server's certificate is not signed by the cluster CA in the kubeconfig (${code}): check certificate-authority(-data), or that the URL points at this cluster`;
    }
    if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
        return `the server's certificate is not valid for the host in the server URL (${code}): use the cluster's own address, or set tls-server-name in the kubeconfig`;
    }
    if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") {
        return `the server's certificate is ${code === "CERT_HAS_EXPIRED" ? "expired" : "not yet valid"} (${code}): check the cluster's certificates and this machine's clock`;
    }
    if (code.startsWith("ERR_OSSL_") || /PEM|asn1|bad decrypt|key values mismatch/i.test(message)) {
        return `the TLS material in the kubeconfig could not be used (${code || "OpenSSL error"}): check the user's client-certificate and client-key (a PEM pair that belongs together) and the cluster's certificate-authority`;
    }
    if (code === "ERR_INVALID_CHAR" || code === "ERR_HTTP_INVALID_HEADER_VALUE") {
        return `the credential from the kubeconfig holds characters an HTTP header cannot carry (a newline or control character, ${code}): check the token (or what the exec plugin prints)`;
    }
    if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
        return `the host name in ${server} does not resolve here (${code}): check the server URL, DNS, or whether it is a VPC-internal name`;
    }
    if (code === "ECONNREFUSED")
        return `nothing accepts connections at ${server} (${code}): check the server URL and that the API server is reachable from here`;
    if (code === "ETIMEDOUT") return `${message.includes("deadline") ? message : `timed out (${code})`}`;
    if (code === "ECONNRESET" || code === "EPIPE") return `the connection to ${server} was reset (${code}); it is retried`;
    if (code === "EHOSTUNREACH" || code === "ENETUNREACH")
        return `${server} is not reachable from this network (${code}): check routes, VPN or the private/public endpoint choice`;
    return undefined;
}
