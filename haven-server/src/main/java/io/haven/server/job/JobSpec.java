package io.haven.server.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.haven.protocol.Messages;
import io.haven.server.inventory.PolicySpec;

/**
 * What a job does, stored as JSON in {@code jobs.spec}: exactly one part is set, per the job's type.
 *
 * @param pool the group whose least-loaded agent may run it, for pooled workloads (null: {@code jobs.agent_id})
 * @param dr a DR operation (task type {@code dr}) of a run or of the DR copy keeper
 * @param maintenance retention (forget by these rules, then prune) of a repository, run by the server
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobSpec(Messages.BackupSpec backup, Messages.RestoreSpec restore, Maintenance maintenance, Long pool, Messages.DrSpec dr) {
    public JobSpec(Messages.BackupSpec backup, Messages.RestoreSpec restore, Maintenance maintenance, Long pool) {
        this(backup, restore, maintenance, pool, null);
    }

    /** Retention of one policy's workloads in one repository. */
    public record Maintenance(String policy, PolicySpec.Retention retention, java.util.List<String> workloadTags) {}
}
