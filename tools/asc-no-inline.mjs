// An asc transform for the size-first builds (`small`): drops the @inline
// decorator from every function of the program's own sources (not the
// standard library's) whose body is more than one statement, so binaryen's
// inliner decides about them alone. One-statement functions (a load, a
// store, a test) keep it: as calls they cost more instructions than their
// bodies and save few bytes (small.wasm: 8,228 bytes and 728 instructions per
// s1 operation with every @inline dropped, 8,945 and 490 with these kept).
// The release build keeps every decorator: they inline the hot path into
// each C entry point, which is where its speed comes from
// (docs/performance.md, "Build sizes").
//
// Runs after parsing, before the program is built from the AST: decorators
// become flags only then, so dropping the node is all it takes.
import { Transform } from "assemblyscript/transform";
import { NodeKind, DecoratorKind } from "assemblyscript";

export default class NoInline extends Transform {
  afterParse(parser) {
    let dropped = 0;
    for (const source of parser.sources) {
      if (source.isLibrary) continue; // the standard library keeps its own
      for (const statement of source.statements) {
        if (statement.kind !== NodeKind.FunctionDeclaration || !statement.decorators) continue;
        const body = statement.body;
        if (body && body.kind === NodeKind.Block && body.statements.length === 1) continue;
        const kept = statement.decorators.filter((decorator) => decorator.decoratorKind !== DecoratorKind.Inline);
        dropped += statement.decorators.length - kept.length;
        statement.decorators = kept.length ? kept : null;
      }
    }
    if (dropped === 0) throw new Error("asc-no-inline: no @inline decorator found in the sources");
  }
}
