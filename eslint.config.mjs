// ESLint (typescript-eslint) for the whole tree; Prettier owns formatting (`npm run lint` checks both).
import js from "@eslint/js";
import comments from "@eslint-community/eslint-plugin-eslint-comments/configs";
import tseslint from "typescript-eslint";

const nodeGlobals = Object.fromEntries(
    ["process", "console", "require", "module", "__dirname", "Buffer", "setTimeout", "clearTimeout", "setInterval", "clearInterval", "setImmediate"].map(
        (g) => [g, "readonly"],
    ),
);

export default tseslint.config(
    { ignores: ["node_modules/", "dist/", ".bench/", "policy/node_modules/", "test/**/fixtures/", "tools/"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    comments.recommended,
    {
        languageOptions: { globals: nodeGlobals },
        linterOptions: { reportUnusedDisableDirectives: "error" },
        rules: {
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
            // A suppression must say why, on the same line: `// eslint-disable-next-line rule -- reason`.
            "@eslint-community/eslint-comments/require-description": ["error", { ignore: [] }],
            "@eslint-community/eslint-comments/disable-enable-pair": ["error", { allowWholeFile: true }],
        },
    },
    {
        // Plain CommonJS scripts (mocha reporter, build helper): require() is how they load modules.
        files: ["**/*.js"],
        languageOptions: { sourceType: "commonjs" },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
);
