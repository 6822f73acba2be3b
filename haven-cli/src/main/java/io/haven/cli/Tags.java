package io.haven.cli;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.util.ArrayList;
import java.util.List;

/**
 * Tags as typed: each value may list several, separated by commas ({@code --tag a,b} is the
 * tags a and b, as in restic), and none may be empty. The snapshot list shows tags joined by
 * commas, so a tag that held one could not be told from two.
 */
final class Tags {
    private Tags() {}

    static List<String> parse(List<String> values) {
        List<String> out = new ArrayList<>();
        for (String v : values) {
            for (String t : v.split(",", -1)) {
                if (t.isEmpty()) {
                    throw new HavenException(ErrorCode.USAGE, "empty tag in '" + v + "': tags are separated by commas and none may be empty");
                }
                if (!out.contains(t)) {
                    out.add(t);
                }
            }
        }
        return out;
    }
}
