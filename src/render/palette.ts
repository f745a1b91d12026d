// Colours of the heap picture: the Okabe–Ito palette, which stays distinguishable under
// the common colour-vision deficiencies. Colour is never the only cue: free space is
// hatched with a dashed outline, in-use blocks are solid, metadata is solid and darker.

import type { Block } from "../heap.js";
import type { PageKind } from "./snapshot.js";

/** The eight Okabe–Ito colours (Okabe & Ito 2008, "Color Universal Design"). */
export const OKABE_ITO = {
  black: "#000000",
  orange: "#E69F00",
  skyBlue: "#56B4E9",
  bluishGreen: "#009E73",
  yellow: "#F0E442",
  blue: "#0072B2",
  vermillion: "#D55E00",
  reddishPurple: "#CC79A7",
} as const;

/** Bars of a comparison chart take these in order. */
export const SERIES_COLOURS: readonly string[] = [
  OKABE_ITO.blue, OKABE_ITO.orange, OKABE_ITO.bluishGreen, OKABE_ITO.vermillion,
  OKABE_ITO.reddishPurple, OKABE_ITO.skyBlue, OKABE_ITO.yellow, OKABE_ITO.black,
];

/** One hue per layer; the state decides solid vs hatched, not the hue. */
const LAYER_COLOUR: Record<Block["layer"], string> = {
  medium: OKABE_ITO.blue,
  slab: OKABE_ITO.bluishGreen,
  large: OKABE_ITO.orange,
  pages: OKABE_ITO.skyBlue,
  state: OKABE_ITO.vermillion,
  "page-map": OKABE_ITO.vermillion,
  "slab-header": OKABE_ITO.reddishPurple,
  span: OKABE_ITO.bluishGreen, // a free slab span: the slab hue, hatched
  "start-map": OKABE_ITO.vermillion, // allocator metadata, like the heap state
  buddy: OKABE_ITO.yellow, // buddy engine (build/buddy.wasm); not in LEGEND, so default pictures are unchanged
};

export interface BlockStyle {
  /** Solid fill colour, or the hatch colour when `hatched`. */
  colour: string;
  hatched: boolean;
  /** stroke-dasharray of the outline, when dashed. */
  dash?: string;
  /** Text colour that reads on this fill. */
  ink: string;
}

export function blockStyle(layer: Block["layer"], state: Block["state"]): BlockStyle {
  const colour = LAYER_COLOUR[layer] ?? OKABE_ITO.black;
  if (state === "free") return { colour, hatched: true, dash: "2 1.5", ink: "#111111" };
  const light = colour === OKABE_ITO.orange || colour === OKABE_ITO.yellow || colour === OKABE_ITO.skyBlue;
  return { colour, hatched: false, ink: light ? "#111111" : "#FFFFFF" };
}

/** Hatch pattern id for a colour; the renderer defines one pattern per colour used. */
export function hatchId(colour: string): string {
  return `hatch-${colour.replace(/[^0-9a-zA-Z]/g, "")}`;
}

export interface LegendEntry {
  label: string;
  layer: Block["layer"];
  state: Block["state"];
}

/** Always the whole list, so the legend does not move while a trace is stepped through. */
export const LEGEND: readonly LegendEntry[] = [
  { label: "medium block", layer: "medium", state: "in-use" },
  { label: "medium free", layer: "medium", state: "free" },
  { label: "slab slot", layer: "slab", state: "in-use" },
  { label: "slab slot free", layer: "slab", state: "free" },
  { label: "large run", layer: "large", state: "in-use" },
  { label: "free pages", layer: "pages", state: "free" },
  { label: "heap state / page map / start map", layer: "state", state: "metadata" },
  { label: "slab header", layer: "slab-header", state: "metadata" },
];

/** Gutter square per page kind; the square also carries the kind as a <title>. */
export const PAGE_KIND_COLOUR: Record<PageKind, string> = {
  none: "#FFFFFF",
  free: OKABE_ITO.skyBlue,
  heap: OKABE_ITO.blue,
  slab: OKABE_ITO.bluishGreen,
  large: OKABE_ITO.orange,
  "large-tail": "#F5CF80",
  meta: OKABE_ITO.vermillion,
};

/** Background of address ranges no block covers (segment ends, unused tails). */
export const GAP_FILL = "#F2F2F2";
/** Below heapStart: the module's data and stack, not the heap's. */
export const OUTSIDE_FILL = "#D9D9D9";
