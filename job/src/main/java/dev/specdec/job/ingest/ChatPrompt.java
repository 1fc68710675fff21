package dev.specdec.job.ingest;

import dev.specdec.engine.request.InvalidRequestException;
import dev.specdec.job.chat.ChatTemplate;
import dev.specdec.records.ChatMessage;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Chat messages as the job accepts them: roles are system, user or assistant (any case, trimmed).
 * For a model with a chat template they become the template's messages; for a request that allows
 * the plain fallback (a model without one) they are rendered here: each message as a
 * {@code "Role: content"} paragraph, then {@code "Assistant:"} for the model to continue. There a
 * line inside a message that starts like a turn ("Assistant: ...") is quoted with "> ", so that no
 * message can fake another party's turn in this format.
 */
public final class ChatPrompt {
    static final Set<String> ROLES = Set.of("system", "user", "assistant");
    private static final Pattern TURN_LIKE = Pattern.compile("(?im)^([ \\t]*(?:system|user|assistant)[ \\t]*:)");

    private ChatPrompt() {
    }

    public static String render(List<ChatMessage> messages) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            String role = role(i, m);
            String content = m.getContent() == null ? "" : m.getContent().trim();
            sb.append(Character.toUpperCase(role.charAt(0))).append(role.substring(1)).append(": ")
                    .append(TURN_LIKE.matcher(content).replaceAll("> $1")).append("\n\n");
        }
        return sb.append("Assistant:").toString();
    }

    /** The messages for a chat template: roles checked and lower-cased, contents as sent. */
    public static List<ChatTemplate.Message> forTemplate(List<ChatMessage> messages) {
        List<ChatTemplate.Message> out = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            out.add(new ChatTemplate.Message(role(i, m), m.getContent() == null ? "" : m.getContent()));
        }
        return out;
    }

    private static String role(int index, ChatMessage m) {
        String role = m.getRole() == null ? "" : m.getRole().trim().toLowerCase(Locale.ROOT);
        if (!ROLES.contains(role)) {
            throw new InvalidRequestException("chat message " + (index + 1) + " has role '" + cut(m.getRole())
                    + "': roles are system, user and assistant");
        }
        return role;
    }

    private static String cut(String s) {
        return s == null ? "" : s.length() <= 32 ? s : s.substring(0, 32) + "...";
    }
}
