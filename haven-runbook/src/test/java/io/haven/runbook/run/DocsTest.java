package io.haven.runbook.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.haven.runbook.Plans;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/runbooks.md shows the tested example plan and a report this code renders. */
class DocsTest {
    static String doc() throws IOException {
        return Files.readString(Path.of("..", "docs", "runbooks.md"));
    }

    /** The text of the first fenced block after {@code heading}. */
    static String block(String doc, String heading) {
        int at = doc.indexOf(heading);
        assertThat(at).as("heading %s", heading).isNotNegative();
        int open = doc.indexOf("```", at);
        int start = doc.indexOf('\n', open) + 1;
        int close = doc.indexOf("```", start);
        return doc.substring(start, close);
    }

    @Test
    void theDocumentedPlanIsTheTestedExample() throws IOException {
        assertThat(block(doc(), "## The plan file")).isEqualTo(Plans.shopYaml());
    }

    @Test
    void theDocumentedReportIsWhatADrillWithAProbeThatNeverAnswersRenders() throws IOException {
        RunDriver r = new RunDriver(Plans.shop(), RunKind.TEST);
        r.hang.add("probe:app");
        r.start().autopilot();
        assertThat(block(doc(), "`render()` is the text")).isEqualTo(r.report().render());
    }
}
