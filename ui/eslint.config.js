// The UI's linter: TypeScript's recommended rules and every rule of React's hooks plugin. `npm run lint` runs it; the test command fails on any finding.
import js from "@eslint/js";
import globals from "globals";
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist", "src/bindings"] },
  {
    files: ["src/**/*.{ts,tsx}"],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: { ecmaVersion: 2022, globals: globals.browser },
    plugins: { "react-hooks": reactHooks },
    rules: {
      // Every rule of the plugin's recommended set (the rules of hooks, exhaustive dependencies
      // and the React Compiler's checks), as errors.
      ...Object.fromEntries(Object.keys(reactHooks.configs["recommended-latest"].rules).map((r) => [r, "error"])),
    },
  },
);
