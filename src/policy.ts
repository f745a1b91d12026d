// Placement policies by name, and how one is chosen.

import { constant } from "./layout.js";

export const POLICY_NAMES = ["first", "next", "best", "worst", "segregated"] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/** The policy number the module uses for `name` (its POLICY_* constant). */
export function policyNumber(name: PolicyName): number {
  return constant(`POLICY_${name.toUpperCase()}`);
}

export function policyName(value: number): PolicyName {
  for (const name of POLICY_NAMES) if (policyNumber(name) === value) return name;
  throw new Error(`unknown policy number ${value}`);
}

export function isPolicyName(name: string): name is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(name);
}

/**
 * The policy to use: the explicit option if given, else WASM_MALLOC_POLICY
 * (under Node), else the default (segregated fit).
 */
export function resolvePolicy(option?: string): PolicyName {
  const fromEnv = typeof process !== "undefined" ? process.env?.WASM_MALLOC_POLICY : undefined;
  const chosen = option ?? (fromEnv && fromEnv.length > 0 ? fromEnv : undefined) ?? "segregated";
  if (!isPolicyName(chosen)) {
    const source = option !== undefined ? "the policy option" : "WASM_MALLOC_POLICY";
    throw new RangeError(`${source} is "${chosen}"; choose one of ${POLICY_NAMES.join(", ")}`);
  }
  return chosen;
}
