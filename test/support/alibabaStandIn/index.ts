// A local stand-in for the Alibaba Cloud OpenAPI operations this project calls:
// Container Service (ROA, ACS3-HMAC-SHA256), KMS and STS (RPC, HMAC-SHA1 v1),
// over one shared state; it lives in this folder, split by service. Tests reach
// it through the real SDKs by pointing ALIBABA_CLOUD_CS_ENDPOINT /
// ALIBABA_CLOUD_KMS_ENDPOINT at it (see useAlibabaStandInEnv).

export type {
    AlibabaStandIn,
    RecordedCall,
    StandInCluster,
    StandInKey,
    StandInKeyVersion,
    StandInKmsInstance,
    StandInKnobs,
    StandInOptions,
    StandInPolicyAttachment,
    StandInRole,
    StandInVSwitch,
} from "./types";
export { STAND_IN_ACCESS_KEY_ID, STAND_IN_ACCESS_KEY_SECRET, STAND_IN_ACCOUNT_ID } from "./state";
export { startAlibabaStandIn } from "./server";
export { standInHostEnv, standInStackConfig, useAlibabaStandInEnv } from "./env";
