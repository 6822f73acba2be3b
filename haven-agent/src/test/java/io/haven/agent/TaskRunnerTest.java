package io.haven.agent;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.HavenException;
import io.haven.protocol.Messages;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What the agent refuses before it starts a task, whatever the server sent. */
class TaskRunnerTest {
    /**
     * A sync restore whose target is the root, however spelled, deletes everything on the host that
     * the snapshot lacks: the agent refuses it before it opens the repository or reads the target.
     */
    @ParameterizedTest
    @ValueSource(strings = {"/", "//", "/var/..", "/./", "/tmp/../..", "/.."})
    void aSyncRestoreIntoTheRootIsRefusedEvenWhenAServerSendsIt(String target) {
        Messages.Task task = new Messages.Task(7, "restore", null, null,
                new Messages.RestoreSpec("0123abcd", "/tmp/d2", target, List.of(), true));
        TaskRunner runner = new TaskRunner(null, task, new JobLog(7, null), 1, null, () -> false);
        assertThatThrownBy(runner::run).isInstanceOf(HavenException.class)
                .hasMessageContaining("refusing a sync restore into /").hasMessageContaining(target);
    }
}
