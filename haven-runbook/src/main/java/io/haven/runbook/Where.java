package io.haven.runbook;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/** Where a runbook script runs: on the server, or on a named agent. Plan files write {@code server} or {@code host NAME}. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "on")
@JsonSubTypes({
    @JsonSubTypes.Type(value = Where.Server.class, name = "server"),
    @JsonSubTypes.Type(value = Where.Host.class, name = "host")})
public sealed interface Where {
    /** On the Haven server that runs the plan. */
    record Server() implements Where {}

    /** On the agent named {@code agent}, at whichever site it is. */
    record Host(String agent) implements Where {
        public Host {
            Checks c = new Checks();
            c.name("where", agent);
            c.done();
        }
    }

    /** The plan file's form: {@code server} or {@code host NAME}. */
    default String text() {
        return switch (this) {
            case Server s -> "server";
            case Host h -> "host " + h.agent();
        };
    }

    /**
     * Reads the plan file's form.
     *
     * @throws IllegalArgumentException with a message fit for a plan problem
     */
    static Where parse(String text) {
        String t = text == null ? "" : text.strip();
        if (t.equals("server")) {
            return new Server();
        }
        String[] words = t.split("\\s+");
        if (words.length == 2 && words[0].equals("host")) {
            if (!Checks.NAME.matcher(words[1]).matches()) {
                throw new IllegalArgumentException("names an agent that is not a valid name: \"" + words[1] + "\"");
            }
            return new Host(words[1]);
        }
        throw new IllegalArgumentException("must be \"server\" or \"host AGENT\", not \"" + text + "\"");
    }
}
