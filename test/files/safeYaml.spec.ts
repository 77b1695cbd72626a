// components/files/safeYaml.ts: YAML from files a user (or an attacker) hands us is
// refused before anything walks or copies it when it is too large or expands
// too far, and its errors never echo the document.
import { strict as assert } from "node:assert";
import { DEFAULT_YAML_LIMITS, loadYamlSafely, YamlDocumentError, YamlLimits } from "../../components/files";

/** A "billion laughs": `levels` anchors, each a list of `width` aliases of the one before. */
function aliasBomb(levels: number, width: number): string {
    const lines = [`a0: &a0 [${Array(width).fill('"lol"').join(",")}]`];
    for (let i = 1; i < levels; i++) {
        const aliases = Array(width).fill(`*a${i - 1}`);
        lines.push(`a${i}: &a${i} [${aliases.join(",")}]`);
    }
    return `${lines.join("\n")}\n`;
}

/** Runs `fn`, returning how long it took in milliseconds. */
function timed(fn: () => void): number {
    const started = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - started) / 1e6;
}

function refusal(pattern: RegExp) {
    return (e: unknown) => {
        assert.ok(e instanceof YamlDocumentError, `a YamlDocumentError, not ${String(e)}`);
        assert.match(e.message, pattern);
        return true;
    };
}

const LIMITS: YamlLimits = { maxBytes: 1024, maxAliases: 10, maxNodes: 100 };

describe("safeYaml: loadYamlSafely", function () {
    this.timeout(10_000);

    it("parses a normal document (a stack file with an anchor reused a few times)", () => {
        const doc = loadYamlSafely(
            "config:\n  alicloud:region: cn-hangzhou\n  tags: &tags {team: platform, env: prod}\n  key:\n    tags: *tags\n  rotation: {enabled: true, qps: 100}\n  zones: [cn-hangzhou-k, cn-hangzhou-j]\n",
            "Pulumi.dev.yaml",
        );
        assert.deepEqual(doc, {
            config: {
                "alicloud:region": "cn-hangzhou",
                tags: { team: "platform", env: "prod" },
                key: { tags: { team: "platform", env: "prod" } },
                rotation: { enabled: true, qps: 100 },
                zones: ["cn-hangzhou-k", "cn-hangzhou-j"],
            },
        });
        assert.equal(loadYamlSafely("", "empty.yaml"), undefined);
        assert.equal(loadYamlSafely("just text", "scalar.yaml"), "just text");
    });

    it("caps the size in UTF-8 bytes, naming the origin: the limit itself passes, one byte more is refused", () => {
        const value = "x".repeat(LIMITS.maxBytes - "k: ".length);
        assert.deepEqual(loadYamlSafely(`k: ${value}`, "at-limit.yaml", LIMITS), { k: value });
        assert.throws(() => loadYamlSafely(`k: ${value}x`, "over.yaml", LIMITS), refusal(/^over\.yaml is 1025 bytes; at most 1024 are accepted/));
        // Characters are not bytes: 342 three-byte characters are 1026 bytes.
        assert.throws(() => loadYamlSafely(`k: ${"€".repeat(342)}`, "utf8.yaml", LIMITS), refusal(/^utf8\.yaml is 1029 bytes/));
    });

    it("caps alias reuse: a few aliases pass, more than maxAliases are refused as an alias bomb", () => {
        const uses = (n: number) => `a: &a [x]\nb: [${Array(n).fill("*a").join(", ")}]\n`;
        assert.equal((loadYamlSafely(uses(LIMITS.maxAliases), "ok.yaml", LIMITS) as { b: unknown[] }).b.length, LIMITS.maxAliases);
        assert.throws(
            () => loadYamlSafely(uses(LIMITS.maxAliases + 1), "aliases.yaml", LIMITS),
            refusal(/^aliases\.yaml reuses anchored values more than 10 times; refusing it \(a YAML alias bomb\?\)$/),
        );
    });

    it("caps the expansion: values counted as the aliases expand, and plain values too", () => {
        const generous = { ...LIMITS, maxAliases: 1_000_000 };
        // 3 levels of 9: 1 + 9 + 81 + 729 values once expanded, from 3 lines.
        assert.throws(
            () => loadYamlSafely(aliasBomb(3, 9), "bomb.yaml", generous),
            refusal(/^bomb\.yaml expands to more than 100 values \(aliases expanded\); refusing it \(a YAML alias bomb\?\)$/),
        );
        // No alias at all: a long list is counted the same way.
        assert.throws(
            () => loadYamlSafely(`[${Array(120).fill("1").join(",")}]`, "list.yaml", { ...generous, maxBytes: 4096 }),
            refusal(/expands to more than 100 values/),
        );
        assert.equal((loadYamlSafely(`[${Array(90).fill("1").join(",")}]`, "list.yaml", generous) as unknown[]).length, 90);
    });

    it("refuses the nine-level alias bomb (9^9 values) with the default limits in well under a second", () => {
        const bomb = aliasBomb(9, 9);
        assert.ok(Buffer.byteLength(bomb) < DEFAULT_YAML_LIMITS.maxBytes, "small enough to pass the size cap: the alias caps must catch it");
        const ms = timed(() => assert.throws(() => loadYamlSafely(bomb, "bomb.yaml"), refusal(/^bomb\.yaml (reuses anchored values|expands to) more than/)));
        assert.ok(ms < 1000, `took ${ms} ms`);
        // With alias reuse allowed, the expansion cap stops it just as fast.
        const unlimitedAliases = { ...DEFAULT_YAML_LIMITS, maxAliases: Number.MAX_SAFE_INTEGER };
        const ms2 = timed(() =>
            assert.throws(() => loadYamlSafely(bomb, "bomb.yaml", unlimitedAliases), refusal(/^bomb\.yaml expands to more than 1000000 values/)),
        );
        assert.ok(ms2 < 2000, `took ${ms2} ms`);
    });

    it("does not overflow the stack on deep nesting: refused as invalid YAML when too deep to parse, walked iteratively otherwise", () => {
        for (const [shape, text] of [
            ["flow", `${"[".repeat(100_000)}${"]".repeat(100_000)}`],
            ["block mappings", `${Array.from({ length: 1000 }, (_, i) => `${" ".repeat(i)}k:`).join("\n")} x\n`],
        ]) {
            assert.throws(
                () => loadYamlSafely(text, `${shape}.yaml`),
                refusal(new RegExp(`^${shape}\\.yaml is not valid YAML: .*\\(line \\d+, column \\d+\\)$`)),
                shape,
            );
        }
        // Aliases nest past the parser's depth limit: 200 anchors, each 98 levels deep around the one before
        // (19,600 levels, deeper than a recursive walk survives), within limits raised to let it through.
        const lines = [`a0: &a0 ${"[".repeat(98)}x${"]".repeat(98)}`];
        for (let i = 1; i < 200; i++) lines.push(`a${i}: &a${i} ${"[".repeat(98)}*a${i - 1}${"]".repeat(98)}`);
        const raised = { maxBytes: 1 << 20, maxAliases: 10_000_000, maxNodes: 10_000_000 };
        let node = (loadYamlSafely(lines.join("\n"), "deep.yaml", raised) as Record<string, unknown>).a199;
        let depth = 0;
        while (Array.isArray(node)) {
            node = node[0];
            depth++;
        }
        assert.equal(depth, 200 * 98);
    });

    it("never echoes the document in an error: a secret on the line before a syntax error stays out", () => {
        const secret = "s3cr3t-value-0123456789";
        const cases = [
            `config:\n  token: ${secret}\n  clusterId: [unclosed\n`,
            `config:\n  token: ${secret}\n  bad: "unterminated\n`,
            `config:\n  token: ${secret}\n   misindented: x\n`,
            `config:\n  token: ${secret}\n  token: ${secret}\n`,
            `users:\n- name: admin\n  user:\n    token: ${secret}\n  - broken\n`,
            // js-yaml's reasons quote alias and tag names from the document.
            `config:\n  password: *${secret}\n`,
            `config:\n  token: !${secret} x\n`,
        ];
        for (const text of cases) {
            assert.throws(
                () => loadYamlSafely(text, "kubeconfig"),
                (e: unknown) => {
                    assert.ok(e instanceof YamlDocumentError, String(e));
                    assert.doesNotMatch(e.message, /s3cr3t|unclosed|unterminated|misindented|broken|\n/, e.message);
                    assert.match(e.message, /^kubeconfig is not valid YAML: .+ \(line \d+, column \d+\)$/);
                    return true;
                },
                text,
            );
        }
    });
});
