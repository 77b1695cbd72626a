// The pack entry: `pulumi preview --policy-pack policy` runs this file through
// @pulumi/pulumi/cmd/run-policy-pack (TypeScript via ts-node), which serves the
// Analyzer gRPC protocol on 127.0.0.1 and prints its port.

import { PolicyPack } from "@pulumi/policy";
import { POLICY_PACK_NAME, policies } from "./policies";

new PolicyPack(POLICY_PACK_NAME, {
    description: "Keeps the KMS keys that seal ASK/ACK clusters' Secrets alive: enabled, protected at every layer, present.",
    enforcementLevel: "advisory",
    policies,
});
