// The client's pure parts: config reconciliation and wire conversion (no pack is started here).

import * as assert from "node:assert";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import { PolicySummary, UNKNOWN_VALUE, buildConfigureRequest, formatVerdicts, mandatoryViolations, secretValue, toWireValue } from "../../plan/policyClient";

const POLICIES: PolicySummary[] = [
    { name: "kms-key-in-use-enabled", enforcementLevel: "mandatory", configProperties: {} },
    {
        name: "kms-key-in-use-present",
        enforcementLevel: "mandatory",
        configProperties: { externalKeyIds: { type: "array", items: { type: "string" }, default: [] } },
    },
    { name: "kms-key-in-use-rotation", enforcementLevel: "advisory", configProperties: {} },
];

function sentConfig(request: analyzer.ConfigureAnalyzerRequest) {
    const out: Record<string, { level: number; properties: unknown }> = {};
    request.getPolicyconfigMap().forEach((entry, name) => {
        out[name] = { level: entry.getEnforcementlevel(), properties: entry.getProperties()?.toJavaScript() };
    });
    return out;
}

describe("plan/policyClient: Configure request", () => {
    it("sends every policy with its default level and schema defaults when given no overrides", () => {
        assert.deepStrictEqual(sentConfig(buildConfigureRequest("pack", POLICIES, {})), {
            "kms-key-in-use-enabled": { level: analyzer.EnforcementLevel.MANDATORY, properties: {} },
            "kms-key-in-use-present": { level: analyzer.EnforcementLevel.MANDATORY, properties: { externalKeyIds: [] } },
            "kms-key-in-use-rotation": { level: analyzer.EnforcementLevel.ADVISORY, properties: {} },
        });
    });

    it("applies a bare level, an object level and settings", () => {
        const sent = sentConfig(
            buildConfigureRequest("pack", POLICIES, {
                "kms-key-in-use-rotation": "mandatory",
                "kms-key-in-use-present": { enforcementLevel: "advisory", externalKeyIds: ["key-a"] },
            }),
        );
        assert.deepStrictEqual(sent["kms-key-in-use-rotation"].level, analyzer.EnforcementLevel.MANDATORY);
        assert.deepStrictEqual(sent["kms-key-in-use-present"], {
            level: analyzer.EnforcementLevel.ADVISORY,
            properties: { externalKeyIds: ["key-a"] },
        });
    });

    it("names what is wrong in bad config", () => {
        assert.throws(() => buildConfigureRequest("pack", POLICIES, { nope: "mandatory" }), /"nope", which is not a policy of pack "pack"/);
        assert.throws(() => buildConfigureRequest("pack", POLICIES, { "kms-key-in-use-enabled": "strict" }), /must be an enforcement level/);
        assert.throws(() => buildConfigureRequest("pack", POLICIES, { "kms-key-in-use-enabled": { enforcementLevel: "hard" } }), /enforcementLevel" is "hard"/);
        assert.throws(() => buildConfigureRequest("pack", POLICIES, { "kms-key-in-use-enabled": { x: 1 } }), /it takes only enforcementLevel/);
        assert.throws(
            () => buildConfigureRequest("pack", POLICIES, { "kms-key-in-use-present": { externalKeyIds: [1] } }),
            /externalKeyIds\[0\]" must be of type string/,
        );
    });
});

describe("plan/policyClient: wire values", () => {
    it("keeps JSON, the unknown sentinel and the secret envelope; drops undefined fields", () => {
        assert.deepStrictEqual(toWireValue({ a: 1, b: undefined, c: [undefined, "x"], u: UNKNOWN_VALUE, s: secretValue("v") }, "props"), {
            a: 1,
            c: [null, "x"],
            u: UNKNOWN_VALUE,
            s: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "v" },
        });
    });

    it("rejects non-JSON values by path, without quoting the value", () => {
        assert.throws(
            () => toWireValue({ when: new Date(0) }, "props of k"),
            (err: Error) => /props of k\.when is a Date, not plain JSON data/.test(err.message) && !err.message.includes("1970"),
        );
        assert.throws(() => toWireValue({ n: NaN }, "props"), /props\.n is a non-finite number/);
        assert.throws(() => toWireValue({ f: () => 1 }, "props"), /props\.f is a Function/);
    });
});

describe("plan/policyClient: verdict helpers", () => {
    const verdicts = {
        pack: "ask-kms-key-guard",
        violations: [
            { policy: "kms-key-in-use-rotation", level: "advisory" as const, message: "rotate", urn: "urn:a" },
            { policy: "kms-key-in-use-enabled", level: "mandatory" as const, message: "keep it\nenabled", urn: "urn:k" },
        ],
    };
    it("picks the mandatory violations and prints them first", () => {
        assert.deepStrictEqual(
            mandatoryViolations(verdicts).map((v) => v.policy),
            ["kms-key-in-use-enabled"],
        );
        const text = formatVerdicts(verdicts);
        assert.match(text, /2 violation\(s\), 1 mandatory/);
        assert.ok(text.indexOf("[mandatory] kms-key-in-use-enabled") < text.indexOf("[advisory] kms-key-in-use-rotation"), text);
        assert.match(text, /\n {6}enabled/);
        assert.strictEqual(formatVerdicts({ pack: "p", violations: [] }), "Policy pack p: no violations.");
    });
});
