package dev.specdec.deploy;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.runtime.execution.ExecutionState;
import org.apache.flink.runtime.messages.webmonitor.JobDetails;
import org.apache.flink.runtime.messages.webmonitor.MultipleJobsDetails;
import org.apache.flink.runtime.rest.util.RestMapperUtils;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs deploy/docker/submit-job.sh (the compose file's job-submit entry point) with a stub curl that
 * answers with JSON written by Flink's own REST classes, and a stub in place of the Flink image's
 * entrypoint.
 */
class SubmitScriptTest {
    static final Path SCRIPT = DeployFiles.projectRoot().resolve("deploy/docker/submit-job.sh");
    static final String TASK_MANAGERS = "{\"taskmanagers\":[{\"id\":\"172.18.0.5:6122-3f1a2b\",\"path\":\"pekko.tcp://flink@172.18.0.5:6122/user/rpc/taskmanager_0\",\"dataPort\":40417,\"slotsNumber\":1,\"freeSlots\":1}]}";

    @TempDir
    Path dir;

    static String jobs(JobStatus... specdec) throws Exception {
        int[] tasks = new int[ExecutionState.values().length];
        List<JobDetails> list = new java.util.ArrayList<>();
        list.add(new JobDetails(new JobID(), "word count", 1L, -1L, 5L, JobStatus.RUNNING, 6L, tasks, 0));
        for (JobStatus s : specdec) {
            list.add(new JobDetails(new JobID(), "specdec: prompts -> results", 1L, s.isGloballyTerminalState() ? 9L : -1L,
                    5L, s, 6L, tasks, 0));
        }
        return RestMapperUtils.getStrictObjectMapper().writeValueAsString(new MultipleJobsDetails(list));
    }

    record Run(int exit, String output, String execArgs) {
    }

    Run run(String taskManagers, String jobs, String timeout) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "bash is needed");
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Files.writeString(dir.resolve("taskmanagers.json"), taskManagers);
        Files.writeString(dir.resolve("jobs.json"), jobs);
        executable(bin.resolve("curl"), "#!/bin/bash\n"
                + "url=\"${@: -1}\"\n"
                + "case \"$url\" in\n"
                + "  */taskmanagers) cat \"$STUB_DIR/taskmanagers.json\" ;;\n"
                + "  */jobs/overview) cat \"$STUB_DIR/jobs.json\" ;;\n"
                + "  *) exit 22 ;;\n"
                + "esac\n");
        Path entrypoint = executable(dir.resolve("entrypoint"), "#!/bin/bash\nprintf '%s\\n' \"$@\" > \"$STUB_DIR/exec-args\"\n");
        ProcessBuilder pb = new ProcessBuilder("/bin/bash", SCRIPT.toString(), "flink", "run", "-d", "the job.jar")
                .redirectErrorStream(true);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment().put("STUB_DIR", dir.toString());
        pb.environment().put("FLINK_ENTRYPOINT", entrypoint.toString());
        pb.environment().put("SPECDEC_SUBMIT_TIMEOUT", timeout);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        int exit = p.waitFor();
        Path args = dir.resolve("exec-args");
        return new Run(exit, out, Files.exists(args) ? Files.readString(args) : null);
    }

    static Path executable(Path p, String text) throws Exception {
        Files.writeString(p, text);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    @Test
    void submitsWhenNoSpecdecJobIsRunning() throws Exception {
        Run r = run(TASK_MANAGERS, jobs(JobStatus.FINISHED, JobStatus.CANCELED, JobStatus.FAILED), "30");
        assertEquals(0, r.exit(), r.output());
        assertEquals("flink\nrun\n-d\nthe job.jar\n", r.execArgs(), "the command goes to the entrypoint unchanged");
    }

    @Test
    void doesNotSubmitATwin() throws Exception {
        for (JobStatus s : JobStatus.values()) {
            if (s.isGloballyTerminalState()) {
                continue;
            }
            Files.deleteIfExists(dir.resolve("exec-args"));
            Run r = run(TASK_MANAGERS, jobs(JobStatus.FINISHED, s), "30");
            assertEquals(0, r.exit(), r.output());
            assertEquals(null, r.execArgs(), s + ": a specdec job is live, nothing is submitted");
            assertTrue(r.output().contains("already running"), r.output());
        }
    }

    @Test
    void waitsForATaskManagerAndGivesUp() throws Exception {
        Run r = run("{\"taskmanagers\":[]}", jobs(), "0");
        assertEquals(1, r.exit(), r.output());
        assertTrue(r.output().contains("no TaskManager registered"), r.output());
        assertEquals(null, r.execArgs());
    }

    @Test
    void knowsEveryLiveJobState() {
        Matcher m = Pattern.compile("\"state\":\"\\(([A-Z_|]+)\\)\"").matcher(DeployFiles.read(SCRIPT));
        assertTrue(m.find(), "the script's state pattern");
        Set<String> inScript = new TreeSet<>(Arrays.asList(m.group(1).split("\\|")));
        Set<String> live = Arrays.stream(JobStatus.values()).filter(s -> !s.isGloballyTerminalState())
                .map(Enum::name).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(live, inScript);
        assertFalse(inScript.contains("FINISHED"));
    }
}
