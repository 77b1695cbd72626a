// Which KMS keys seal a cluster's Secrets, computed from the stack's resources.
//
// Every key policy asks this one function, so "in use" means the same thing
// in each verdict. A key is in use when a cluster that encrypts its Secrets
// refers to it:
//   - alicloud:cs ServerlessKubernetes / ManagedKubernetes with
//     `encryptionProviderKey` set and `disableEncryption` not true;
//   - this project's ClusterEncryption dynamic resource (`kmsKeyId`).
// The SecretRotation resource is deliberately NOT a consumer: it only watches
// the key for new versions, and nothing breaks for a cluster if it goes away.
//
// Matching: by key ID when the consumer's reference is known (the key's `id`,
// `keyId`, or the suffix of its `arn` after "key/"); by dependency when the
// reference is still unknown in preview (the consumer's property dependencies
// for the reference, else its dependencies, name the key's URN).

import { CLUSTER_ENCRYPTION_TYPE, KMS_KEY_TYPE, MANAGED_CLUSTER_TYPE, SERVERLESS_CLUSTER_TYPE, knownString, readProp } from "./props";
import { normalizeKeyReference } from "./keyIds";

/** The parts of @pulumi/policy's PolicyResource this module reads. */
export interface StackResource {
    type: string;
    urn: string;
    name: string;
    props: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- @pulumi/policy types resource props this way
    opts: { protect: boolean };
    dependencies: StackResource[];
    propertyDependencies: Record<string, StackResource[]>;
}

export interface KeyConsumer {
    resource: StackResource;
    /** The property holding the key reference (e.g. `encryptionProviderKey`). */
    keyProperty: string;
    /** Human label of the cluster whose Secrets depend on the key. */
    cluster: string;
}

export interface InUseKey {
    key: StackResource;
    consumers: KeyConsumer[];
}

/** A consumer whose (known) key ID matches no key in the stack. */
export interface MissingKey {
    consumer: KeyConsumer;
    keyId: string;
}

export interface KeyUsage {
    inUse: InUseKey[];
    missing: MissingKey[];
    /** Consumers whose key reference is unknown and depend on no key: not judged. */
    undetermined: KeyConsumer[];
}

const CONSUMER_KEY_PROPERTY: Record<string, string> = {
    [SERVERLESS_CLUSTER_TYPE]: "encryptionProviderKey",
    [MANAGED_CLUSTER_TYPE]: "encryptionProviderKey",
    [CLUSTER_ENCRYPTION_TYPE]: "kmsKeyId",
};

export { normalizeKeyReference };

/** The key's known IDs (from `id`, `keyId` and the `arn` suffix); empty while all are unknown. */
export function knownKeyIds(key: StackResource): string[] {
    const ids = new Set<string>();
    for (const name of ["id", "keyId"]) {
        const id = knownString(key.props, name);
        if (id) ids.add(id);
    }
    const arn = knownString(key.props, "arn");
    if (arn && arn.includes("key/")) ids.add(normalizeKeyReference(arn));
    return [...ids];
}

function clusterLabel(resource: StackResource): string {
    if (resource.type === CLUSTER_ENCRYPTION_TYPE) {
        const clusterId = knownString(resource.props, "clusterId");
        return clusterId ? `cluster ${clusterId} (through ClusterEncryption "${resource.name}")` : `the cluster of ClusterEncryption "${resource.name}"`;
    }
    const clusterName = knownString(resource.props, "name") ?? resource.name;
    const clusterId = knownString(resource.props, "id");
    return clusterId ? `cluster "${clusterName}" (${clusterId})` : `cluster "${clusterName}"`;
}

function asConsumer(resource: StackResource): KeyConsumer | undefined {
    const keyProperty = CONSUMER_KEY_PROPERTY[resource.type];
    if (!keyProperty) return undefined;
    // Only a known `true` switches encryption off; an unknown switch still
    // counts as encrypting, which can only make the key's own known settings
    // be checked, never invent a value.
    const disabled = readProp(resource.props, "disableEncryption");
    if (disabled.known && disabled.value === true) return undefined;
    const reference = readProp(resource.props, keyProperty);
    if (reference.known && (typeof reference.value !== "string" || reference.value === "")) return undefined;
    return { resource, keyProperty, cluster: clusterLabel(resource) };
}

function keysAmong(resources: StackResource[] | undefined): StackResource[] {
    return (resources ?? []).filter((r) => r.type === KMS_KEY_TYPE);
}

function keysByDependency(consumer: KeyConsumer): StackResource[] {
    const viaProperty = keysAmong(consumer.resource.propertyDependencies[consumer.keyProperty]);
    return viaProperty.length > 0 ? viaProperty : keysAmong(consumer.resource.dependencies);
}

export function findKeyUsage(resources: readonly StackResource[]): KeyUsage {
    const keys = resources.filter((r) => r.type === KMS_KEY_TYPE);
    const consumersByKeyUrn = new Map<string, KeyConsumer[]>();
    const missing: MissingKey[] = [];
    const undetermined: KeyConsumer[] = [];
    const use = (key: StackResource, consumer: KeyConsumer) => {
        const list = consumersByKeyUrn.get(key.urn) ?? [];
        if (!list.includes(consumer)) list.push(consumer);
        consumersByKeyUrn.set(key.urn, list);
    };

    for (const resource of resources) {
        const consumer = asConsumer(resource);
        if (!consumer) continue;
        const reference = knownString(resource.props, consumer.keyProperty);
        if (reference !== undefined) {
            const keyId = normalizeKeyReference(reference);
            const byId = keys.filter((k) => knownKeyIds(k).includes(keyId));
            // A key whose IDs are all unknown (being created or replaced) that
            // the consumer depends on may still be this key: unknown != missing.
            const unresolvedDependency = keysByDependency(consumer).filter((k) => knownKeyIds(k).length === 0);
            if (byId.length > 0) byId.forEach((k) => use(k, consumer));
            else if (unresolvedDependency.length > 0) unresolvedDependency.forEach((k) => use(k, consumer));
            else missing.push({ consumer, keyId });
            continue;
        }
        const byDependency = keysByDependency(consumer);
        if (byDependency.length > 0) byDependency.forEach((k) => use(k, consumer));
        else undetermined.push(consumer);
    }

    const inUse = keys.filter((k) => consumersByKeyUrn.has(k.urn)).map((key) => ({ key, consumers: consumersByKeyUrn.get(key.urn) ?? [] }));
    return { inUse, missing, undetermined };
}

export function describeKey(key: StackResource): string {
    const ids = knownKeyIds(key);
    return ids.length > 0 ? `KMS key "${key.name}" (${ids[0]})` : `KMS key "${key.name}"`;
}

/** "KMS key "k" (id) seals the Secrets of cluster ..." */
export function describeUse(use: InUseKey): string {
    const clusters = use.consumers.map((c) => c.cluster).join(", ");
    return `${describeKey(use.key)} seals the Secrets of ${clusters}`;
}

export const RETIRE_KEY_SAFELY =
    "To retire the key safely, first switch the cluster's Secret encryption off " +
    "(disableEncryption: true on the cluster; or set encryption.onDelete: switch-off, run `pulumi up`, " +
    "then remove or destroy its ClusterEncryption resource), wait for the cluster to be running again " +
    "and rewrite its Secrets (reencrypt-secrets) so none is still sealed by this key; only then disable, " +
    "unprotect or delete the key, in a later update.";
