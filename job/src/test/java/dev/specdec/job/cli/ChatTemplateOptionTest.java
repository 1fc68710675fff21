package dev.specdec.job.cli;

import dev.specdec.job.decode.DecodeSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --chat-template FILE} of the job commands: the file is read where the job is built and its
 * text is part of the serialized settings that reach the TaskManagers, so a cluster's machines need
 * no copy of it (a cluster submission names a model folder that only the TaskManagers have).
 */
class ChatTemplateOptionTest {
    static final class Holder {
        @Mixin
        DecodeOptions decode;
    }

    private static DecodeOptions parse(String... args) {
        Holder h = new Holder();
        new CommandLine(h).parseArgs(args);
        return h.decode;
    }

    @Test
    void theTemplatesTextTravelsInTheSettings(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("chat.jinja");
        Files.writeString(file, "{{ messages[0]['content'] }} → {{ bos_token }}\n");
        DecodeSettings s = parse("--model", "/models/only-on-the-task-managers", "--chat-template", file.toString())
                .clusterSettings();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(s);
        }
        Files.delete(file);
        DecodeSettings shipped;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            shipped = (DecodeSettings) in.readObject();
        }
        assertEquals("{{ messages[0]['content'] }} → {{ bos_token }}\n", shipped.chatTemplate());
        assertEquals(shipped.chatTemplate(), shipped.toBuilder().build().chatTemplate(), "variants keep it");
        assertNull(parse("--model", "/models/x").clusterSettings().chatTemplate(), "without the flag: the model's own");
    }

    @Test
    void aMissingFileIsAnErrorOfTheCommand(@TempDir Path tmp) {
        DecodeOptions d = parse("--model", "/models/x", "--chat-template", tmp.resolve("nope.jinja").toString());
        String message = assertThrows(IllegalArgumentException.class, d::clusterSettings).getMessage();
        assertTrue(message.startsWith("cannot read the chat template"), message);
    }
}
