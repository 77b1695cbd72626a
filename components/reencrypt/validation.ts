/** Input checks shared by the engine and the CLI, so both reject the same things with the same words. */

const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// Annotation values may be any string in Kubernetes; this one is a marker an
// operator types and reads back, so a bounded single line is all we accept.
const MAX_VALUE_LENGTH = 1024;
// Kubernetes reserves these prefixes (and their subdomains) for its own components
// (https://kubernetes.io/docs/concepts/overview/working-with-objects/annotations/#syntax-and-character-set):
// writing one on every Secret would overwrite e.g. kubectl's last-applied-configuration or a token Secret's
// kubernetes.io/service-account.name.
const RESERVED_PREFIXES: readonly string[] = ["kubernetes.io", "k8s.io"];

/** Returns a problem description, or undefined when `key` is a valid annotation key (a Kubernetes qualified name). */
export function annotationKeyProblem(key: string): string | undefined {
    if (key.length === 0) return "annotation key is empty";
    const parts = key.split("/");
    if (parts.length > 2) return `annotation key "${key}" has more than one "/"`;
    const name = parts[parts.length - 1];
    if (parts.length === 2) {
        const prefix = parts[0];
        if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) {
            return `annotation key prefix "${prefix}" must be a lowercase DNS subdomain of at most 253 characters (e.g. example.com)`;
        }
        const reserved = RESERVED_PREFIXES.find((r) => prefix === r || prefix.endsWith(`.${r}`));
        if (reserved) {
            return `annotation key prefix "${prefix}" is reserved for Kubernetes components (*${reserved}/); use your own, e.g. example.com/${parts[1] || "rotation-time"}`;
        }
    }
    if (name.length === 0 || name.length > 63 || !NAME_PART.test(name)) {
        return `annotation key name "${name}" must be 1-63 characters of [A-Za-z0-9-_.], starting and ending with a letter or digit`;
    }
    return undefined;
}

/** Returns a problem description, or undefined when `value` is an acceptable annotation value. */
export function annotationValueProblem(value: string): string | undefined {
    if (value.length === 0) return "annotation value is empty: give the rotation time, e.g. 20220101-010101";
    if (value.length > MAX_VALUE_LENGTH) return `annotation value is ${value.length} characters; at most ${MAX_VALUE_LENGTH} are accepted`;
    // eslint-disable-next-line no-control-regex -- finding control characters is the point of this check
    if (/[\u0000-\u001f\u007f]/.test(value)) return "annotation value contains control characters (newline, tab, ...)";
    return undefined;
}
