package io.haven.runbook.run;

import java.util.List;

/** What an event did to a run: the new state, and the commands to carry out (in order) once it is stored. */
public record Transition(RunState state, List<Command> commands) {
    public Transition {
        commands = List.copyOf(commands);
    }
}
