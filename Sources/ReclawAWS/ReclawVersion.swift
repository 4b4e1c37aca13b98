/// reclaw's own version, used by `--version` and in every AWS call's User-Agent.
public enum ReclawVersion {
    public static let string = "0.1.0"
}
