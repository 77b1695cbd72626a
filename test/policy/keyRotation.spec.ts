import * as assert from "node:assert";
import { inUseKeyPendingWindow, inUseKeyRotation, parseRotationInterval } from "../../policy/keyRotation";
import { UNKNOWN_VALUE } from "../../plan/policyClient";
import { assertHasViolation, assertNoViolations, runStackPolicy } from "../support/policyHarness";
import { ENCRYPTION_URN, KEY_URN, compliantStack, withResource, without } from "../support/policyFixtures";

describe("policy/keyRotation", () => {
    const stack = () => compliantStack({ idsKnown: true });

    describe("parseRotationInterval", () => {
        it("reads days and the seconds form KMS answers with", () => {
            assert.strictEqual(parseRotationInterval("365d"), 365 * 86400);
            assert.strictEqual(parseRotationInterval("31536000s"), 31536000);
            assert.strictEqual(parseRotationInterval("8760h"), 31536000);
            assert.strictEqual(parseRotationInterval("604800"), 604800);
        });
        it("rejects text that is not a duration", () => {
            assert.strictEqual(parseRotationInterval("1y"), undefined);
            assert.strictEqual(parseRotationInterval(""), undefined);
            assert.strictEqual(parseRotationInterval("-5d"), undefined);
        });
    });

    describe("kms-key-in-use-rotation", () => {
        it("passes rotation on at 365 days in either form, and shorter", async () => {
            for (const rotationInterval of ["365d", "31536000s", "90d"]) {
                assertNoViolations(await runStackPolicy(inUseKeyRotation, withResource(stack(), KEY_URN, { props: { rotationInterval } })));
            }
        });
        it("flags rotation off or absent", async () => {
            assertHasViolation(await runStackPolicy(inUseKeyRotation, withResource(stack(), KEY_URN, { props: { automaticRotation: "Disabled" } })), {
                message: 'its automaticRotation is "Disabled"',
                urn: KEY_URN,
            });
            assertHasViolation(await runStackPolicy(inUseKeyRotation, withResource(stack(), KEY_URN, { drop: ["automaticRotation"] })), {
                message: "automaticRotation is not set",
            });
        });
        it("flags an interval over 365 days, a missing one and an unreadable one", async () => {
            assertHasViolation(await runStackPolicy(inUseKeyRotation, withResource(stack(), KEY_URN, { props: { rotationInterval: "31622400s" } })), {
                message: "rotates only every 366 days",
            });
            assertHasViolation(await runStackPolicy(inUseKeyRotation, withResource(stack(), KEY_URN, { drop: ["rotationInterval"] })), {
                message: "rotationInterval is not set",
            });
            assertHasViolation(await runStackPolicy(inUseKeyRotation, withResource(stack(), KEY_URN, { props: { rotationInterval: "one year" } })), {
                message: 'rotationInterval "one year" is not a duration',
            });
        });
        it("ignores unknown values and unused keys", async () => {
            assertNoViolations(await runStackPolicy(inUseKeyRotation, withResource(stack(), KEY_URN, { props: { rotationInterval: UNKNOWN_VALUE } })));
            assertNoViolations(await runStackPolicy(inUseKeyRotation, withResource(stack(), KEY_URN, { props: { automaticRotation: UNKNOWN_VALUE } })));
            assertNoViolations(
                await runStackPolicy(inUseKeyRotation, withResource(without(stack(), ENCRYPTION_URN), KEY_URN, { props: { automaticRotation: "Disabled" } })),
            );
        });
    });

    describe("kms-key-in-use-pending-window", () => {
        it("passes 30 days or more", async () => {
            for (const pendingWindowInDays of [30, 366]) {
                assertNoViolations(await runStackPolicy(inUseKeyPendingWindow, withResource(stack(), KEY_URN, { props: { pendingWindowInDays } })));
            }
        });
        it("flags a shorter window and an unset one", async () => {
            assertHasViolation(await runStackPolicy(inUseKeyPendingWindow, withResource(stack(), KEY_URN, { props: { pendingWindowInDays: 7 } })), {
                message: "pending-deletion window is 7 days",
                urn: KEY_URN,
            });
            assertHasViolation(await runStackPolicy(inUseKeyPendingWindow, withResource(stack(), KEY_URN, { drop: ["pendingWindowInDays"] })), {
                message: "pendingWindowInDays is not set",
            });
        });
        it("ignores an unknown window and unused keys", async () => {
            assertNoViolations(await runStackPolicy(inUseKeyPendingWindow, withResource(stack(), KEY_URN, { props: { pendingWindowInDays: UNKNOWN_VALUE } })));
            assertNoViolations(
                await runStackPolicy(inUseKeyPendingWindow, withResource(without(stack(), ENCRYPTION_URN), KEY_URN, { props: { pendingWindowInDays: 7 } })),
            );
        });
    });
});
