// What keeps a key that seals a cluster's Secrets alive, asked of one key.
// The stack policies (./keyAvailability.ts) ask these of every key a cluster
// uses; the guard that runs before each step (./clusterKeyGuard.ts) asks them
// of a key whose own inputs name its cluster. One wording for both.

import { readProp } from "./props";

/** The parts of a key both kinds of policy see: its inputs and its resource options. */
export interface JudgedKey {
    props: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- @pulumi/policy types resource props this way
    opts: { protect: boolean };
}

export interface KeyFinding {
    /** What is wrong, completing "..., but <problem>". */
    problem: string;
    /** What to change to comply. */
    fix: string;
}

/** A finding, or undefined when the key complies or preview cannot know yet. */
export type KeyCheck = (key: JudgedKey) => KeyFinding | undefined;

export const staysEnabled: KeyCheck = (key) => {
    const status = readProp(key.props, "status");
    // Absent means the provider default, Enabled.
    if (!status.known || status.value === undefined || status.value === "Enabled") return undefined;
    return {
        problem: `its status is ${JSON.stringify(status.value)}`,
        fix:
            'Keep status "Enabled": with the key Disabled or PendingDeletion the API server ' +
            "can no longer read Secrets or ServiceAccount tokens and the cluster's workloads break.",
    };
};

export const keepsDeletionProtection: KeyCheck = (key) => {
    const protection = readProp(key.props, "deletionProtection");
    if (!protection.known || protection.value === "Enabled") return undefined;
    const current = protection.value === undefined ? "not set (KMS default: Disabled)" : JSON.stringify(protection.value);
    return {
        problem: `its deletionProtection is ${current}`,
        fix: 'Set deletionProtection: "Enabled" so KMS itself refuses to schedule the key for deletion, whoever asks (console, API, or another tool).',
    };
};

export const staysProtected: KeyCheck = (key) => {
    if (key.opts.protect === true) return undefined;
    return {
        problem: "the resource option protect is not set",
        fix: "Add { protect: true } to the key's resource options so the Pulumi engine refuses to delete or replace it, even when it disappears from the program.",
    };
};
