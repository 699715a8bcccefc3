import type { Choice } from "../options";

/** The `<option>`s of a `<select>`, from one of the generated choice lists (options.ts). */
export function Choices<T extends string>({ of }: { of: Choice<T>[] }) {
  return <>{of.map((c) => <option key={c.value} value={c.value}>{c.label}</option>)}</>;
}
