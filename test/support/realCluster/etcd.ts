// Raw reads of what kube-apiserver stored, straight from etcd through its JSON gateway
// (POST /v3/kv/range on the client URL): the one place a test can see how a Secret was sealed.

export interface StoredValue {
    key: string;
    value: Buffer;
    modRevision: number;
}

function b64(text: string): string {
    return Buffer.from(text, "utf8").toString("base64");
}

/** The end of the range holding every key with `prefix` (etcd's prefix convention: the last byte plus one). */
function prefixEnd(prefix: string): string {
    const bytes = Buffer.from(prefix, "utf8");
    bytes[bytes.length - 1]++;
    return bytes.toString("base64");
}

export class EtcdReader {
    constructor(readonly clientUrl: string) {}

    private async call(pathname: string, body: object): Promise<Record<string, unknown>> {
        const response = await fetch(`${this.clientUrl}${pathname}`, { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
        if (!response.ok) throw new Error(`etcd ${pathname}: HTTP ${response.status} ${await response.text()}`);
        return (await response.json()) as Record<string, unknown>;
    }

    /** Every key under `prefix`, in pages of `pageSize` (a bounded loop: at most 10,000 pages). */
    async list(prefix: string, pageSize = 1000): Promise<StoredValue[]> {
        const found: StoredValue[] = [];
        let from = b64(prefix);
        for (let page = 0; page < 10_000; page++) {
            const answer = await this.call("/v3/kv/range", { key: from, range_end: prefixEnd(prefix), limit: pageSize });
            const kvs = (answer.kvs as { key: string; value?: string; mod_revision: string }[] | undefined) ?? [];
            for (const kv of kvs) {
                found.push({
                    key: Buffer.from(kv.key, "base64").toString("utf8"),
                    value: Buffer.from(kv.value ?? "", "base64"),
                    modRevision: Number(kv.mod_revision),
                });
            }
            if (!answer.more || kvs.length === 0) return found;
            from = Buffer.concat([Buffer.from(kvs[kvs.length - 1].key, "base64"), Buffer.from([0])]).toString("base64");
        }
        throw new Error(`more than 10,000 pages under ${prefix}`);
    }

    async get(key: string): Promise<StoredValue | undefined> {
        const answer = await this.call("/v3/kv/range", { key: b64(key) });
        const kv = (answer.kvs as { key: string; value?: string; mod_revision: string }[] | undefined)?.[0];
        return kv ? { key, value: Buffer.from(kv.value ?? "", "base64"), modRevision: Number(kv.mod_revision) } : undefined;
    }

    /** Compacts history up to the current revision (as the apiserver's own compactor does). */
    async compact(): Promise<number> {
        const header = (await this.call("/v3/kv/range", { key: b64("compact-probe") })).header as { revision: string };
        const revision = Number(header.revision);
        await this.call("/v3/kv/compaction", { revision, physical: true });
        return revision;
    }
}
