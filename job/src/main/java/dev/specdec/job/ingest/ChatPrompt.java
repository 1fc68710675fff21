package dev.specdec.job.ingest;

import dev.specdec.records.ChatMessage;

import java.util.List;
import java.util.Locale;

/**
 * Renders chat messages as one prompt for a base model without a chat template: each message as a
 * {@code "Role: content"} paragraph, then {@code "Assistant:"} for the model to continue.
 */
public final class ChatPrompt {
    private ChatPrompt() {
    }

    public static String render(List<ChatMessage> messages) {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            String role = m.getRole().trim();
            if (role.isEmpty()) {
                throw new IllegalArgumentException("a chat message has an empty role");
            }
            sb.append(role.substring(0, 1).toUpperCase(Locale.ROOT)).append(role.substring(1).toLowerCase(Locale.ROOT))
                    .append(": ").append(m.getContent().trim()).append("\n\n");
        }
        return sb.append("Assistant:").toString();
    }
}
