// What a value kube-apiserver stored in etcd says about how it was sealed. The formats
// (k8s.io/apiserver/pkg/storage/value/encrypt/envelope): KMS v1 writes
// "k8s:enc:kms:v1:<provider>:" + a 2-byte big-endian length + the encrypted DEK + the data;
// KMS v2 writes "k8s:enc:kms:v2:<provider>:" + an EncryptedObject protobuf (1: encryptedData,
// 2: keyID, 3: encryptedDEKSource, 5: its type). Unencrypted objects are the protobuf
// serialization, which starts with "k8s\0". Our test KMS plugin starts every ciphertext it
// makes with "kv<N>:", N being the key version that sealed it.

export interface Sealing {
    form: "plaintext" | "kms-v1" | "kms-v2" | "unknown";
    provider?: string;
    /** The plugin's key version that sealed the DEK (or DEK seed). */
    keyVersion?: number;
    /** KMS v2 only: the key ID the apiserver recorded. */
    keyId?: string;
}

const PLAINTEXT_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

function versionOf(sealedKey: Buffer): number | undefined {
    const match = /^kv(\d+):/.exec(sealedKey.subarray(0, 16).toString("latin1"));
    return match ? Number(match[1]) : undefined;
}

function readVarint(buf: Buffer, at: number): [number, number] {
    let value = 0;
    let shift = 0;
    for (let i = at; i < buf.length && i < at + 10; i++) {
        value += (buf[i] & 0x7f) * 2 ** shift;
        if ((buf[i] & 0x80) === 0) return [value, i + 1];
        shift += 7;
    }
    throw new Error("truncated varint");
}

/** The length-delimited fields of a protobuf message, by field number (the last wins). */
function protobufFields(buf: Buffer): Map<number, Buffer> {
    const fields = new Map<number, Buffer>();
    let at = 0;
    while (at < buf.length) {
        const [tag, afterTag] = readVarint(buf, at);
        const [field, wire] = [Math.floor(tag / 8), tag % 8];
        if (wire === 2) {
            const [length, start] = readVarint(buf, afterTag);
            fields.set(field, buf.subarray(start, start + length));
            at = start + length;
        } else if (wire === 0) {
            at = readVarint(buf, afterTag)[1];
        } else {
            throw new Error(`unexpected protobuf wire type ${wire}`);
        }
    }
    return fields;
}

export function sealingOf(raw: Buffer): Sealing {
    if (raw.subarray(0, 4).equals(PLAINTEXT_MAGIC)) return { form: "plaintext" };
    const text = raw.subarray(0, 256).toString("latin1");
    const header = /^k8s:enc:kms:(v1|v2):([^:]+):/.exec(text);
    if (!header) return { form: "unknown" };
    const body = raw.subarray(Buffer.byteLength(header[0], "latin1"));
    if (header[1] === "v1") {
        const keyLength = body.readUInt16BE(0);
        return { form: "kms-v1", provider: header[2], keyVersion: versionOf(body.subarray(2, 2 + keyLength)) };
    }
    const fields = protobufFields(body);
    const dekSource = fields.get(3);
    return { form: "kms-v2", provider: header[2], keyId: fields.get(2)?.toString("utf8"), keyVersion: dekSource ? versionOf(dekSource) : undefined };
}
