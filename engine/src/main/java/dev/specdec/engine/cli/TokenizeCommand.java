package dev.specdec.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.tokenizer.TextTokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code specdec tokenize}: a text's token ids exactly as the engine feeds a prompt to the model
 * (with the special tokens the tokenizer adds), or the text of given ids, so that prompts can be
 * checked against another tokenizer implementation.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Show a prompt's token ids as the engine sees them, or decode token ids to text.")
public final class TokenizeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--model", description = "Checkpoint folder (default: the bundled model).")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--text", description = "Text to encode, as a prompt.")
        String text;

        @Option(names = "--ids", split = ",", description = "Token ids to decode, comma-separated.")
        List<Integer> ids;
    }

    @Option(names = "--json", description = "One JSON object: ids, tokens (for --text) and text.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Path dir = model != null ? model : Defaults.bundledModel();
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            int[] ids = input.text != null ? tok.encode(input.text) : input.ids.stream().mapToInt(Integer::intValue).toArray();
            String text = input.text != null ? input.text : tok.decode(ids, false);
            if (json) {
                ObjectNode o = JSON.createObjectNode();
                Arrays.stream(ids).forEach(o.putArray("ids")::add);
                if (input.text != null) {
                    Arrays.stream(tok.tokens(input.text)).forEach(o.putArray("tokens")::add);
                }
                o.put("text", text);
                System.out.println(JSON.writeValueAsString(o));
            } else if (input.text != null) {
                System.out.println(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
            } else {
                System.out.println(text);
            }
        }
        return 0;
    }
}
