// WAT text to a module's bytes (binaryen, which comes with AssemblyScript):
// the clients and stand-in modules the host tests write by hand.
import assert from "node:assert/strict";
import binaryen from "binaryen";

export function assemble(wat) {
  const module = binaryen.parseText(wat);
  module.setFeatures(binaryen.Features.All);
  assert.ok(module.validate(), "the WAT is valid");
  const bytes = module.emitBinary();
  module.dispose();
  return bytes;
}
