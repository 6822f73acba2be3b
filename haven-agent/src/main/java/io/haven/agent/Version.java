package io.haven.agent;

/** The agent's version, from its jar's manifest ({@code dev} when run from classes). */
final class Version {
    private Version() {}

    static String get() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
