package io.haven.agent;

import io.haven.protocol.Messages;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.file.FileStore;
import java.nio.file.FileSystems;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Reads the facts an agent reports about its host: name, OS, CPUs, memory, file systems and free space. */
public final class HostProbe {
    /** Pseudo and virtual file systems that say nothing about where data can go. */
    private static final Set<String> SKIP = Set.of("proc", "sysfs", "devpts", "cgroup", "cgroup2", "securityfs", "debugfs", "tracefs",
            "mqueue", "hugetlbfs", "pstore", "bpf", "configfs", "fusectl", "autofs", "binfmt_misc", "nsfs", "rpc_pipefs", "devtmpfs");

    private HostProbe() {}

    public static Messages.HostFacts facts() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = System.getenv().getOrDefault("HOSTNAME", "unknown");
        }
        long memory = 0;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            memory = os.getTotalMemorySize();
        }
        List<Messages.FileSystem> fss = new ArrayList<>();
        for (FileStore fs : FileSystems.getDefault().getFileStores()) {
            try {
                if (SKIP.contains(fs.type()) || fs.getTotalSpace() == 0) {
                    continue;
                }
                String s = fs.toString();
                String mount = s.contains(" (") ? s.substring(0, s.lastIndexOf(" (")) : s;
                fss.add(new Messages.FileSystem(mount, fs.type(), fs.getTotalSpace(), fs.getUsableSpace()));
            } catch (IOException e) {
                // an unreadable mount (stale NFS, permissions) is left out
            }
            if (fss.size() >= 64) {
                break;
            }
        }
        return new Messages.HostFacts(host, System.getProperty("os.name"), System.getProperty("os.version"), System.getProperty("os.arch"),
                Runtime.getRuntime().availableProcessors(), memory, fss);
    }
}
