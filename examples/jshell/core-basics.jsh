// securetag from JShell: the shared value types and JSON mapping.
// Run: jshell --class-path "$(cat examples/target/jshell-classpath.txt):examples/target/classes" examples/jshell/core-basics.jsh
// (JShell runs a line as soon as it is a complete statement, so chained calls break lines after a dot.)
import dev.securetag.core.*;
// Json and Hashing are the SDK's own helpers (core.internal: not API, used here to show the JSON mapping).
import dev.securetag.core.internal.Hashing;
import dev.securetag.core.internal.Json;

var ref = SourceRef.builder().document("iso27001.pdf").page(12).
    addSectionPath("A.5 Organizational controls", "A.5.1 Policies for information security").build();
var block = TextBlock.of(BlockKind.PARAGRAPH, "Information security policy shall be defined and approved.", ref);
var pair = QaPair.builder().question("What does A.5.1 require?").answer(block.text()).
    source(ref).chunkId(Hashing.sha256Hex(block.text())).language("en").build();
System.out.println("section: " + ref.section());
System.out.println("alpaca: " + Json.write(TrainingExample.fromQaPair(pair)));
/exit
