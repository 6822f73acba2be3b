package io.haven.runbook;

/** The DNS record types a runbook's DNS update may change. */
public enum RecordType {
    A, AAAA, CNAME
}
