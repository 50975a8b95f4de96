// Prints COUNT Kafka cluster ids, one a line, each drawn by `kafka-storage random-uuid`
// (kafka.tools.StorageTool, the command infra.sh runs to make a cluster id), all in one JVM.
// `infra.sh kafka-cluster-ids COUNT` runs it (Java's source-file mode; needs a JDK), so a test can
// draw thousands of ids in seconds instead of starting a JVM for each.
public final class ClusterIds {
  public static void main(String[] args) throws Exception {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 1;
    java.io.ByteArrayOutputStream buffer = new java.io.ByteArrayOutputStream();
    java.io.PrintStream captured = new java.io.PrintStream(buffer, true, "UTF-8");
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < count; i++) {
      buffer.reset();
      // What StorageTool.main runs, without its System.exit.
      int status = kafka.tools.StorageTool.execute(new String[] {"random-uuid"}, captured);
      if (status != 0) throw new IllegalStateException("kafka-storage random-uuid exited with " + status);
      out.append(buffer.toString("UTF-8").trim()).append('\n');
    }
    System.out.print(out);
  }
}
