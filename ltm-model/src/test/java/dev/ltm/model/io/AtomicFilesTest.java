package dev.ltm.model.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AtomicFilesTest {
    @TempDir Path dir;

    private static String[] names(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toArray(String[]::new);
        }
    }

    @Test
    void writeReplacesTheFile() throws IOException {
        Path f = dir.resolve("state.json");
        AtomicFiles.writeString(f, "one");
        AtomicFiles.writeString(f, "two");
        assertThat(Files.readString(f)).isEqualTo("two");
        assertThat(names(dir)).containsExactly("state.json");
    }

    @Test
    void writerThrowingMidwayLeavesTheOldFileIntact() throws IOException {
        Path f = dir.resolve("weights.bin");
        AtomicFiles.writeString(f, "old content");
        assertThatThrownBy(() -> AtomicFiles.write(f, out -> {
            out.write("half of the new con".getBytes());
            throw new IllegalStateException("disk on fire");
        })).isInstanceOf(IllegalStateException.class).hasMessage("disk on fire");
        assertThat(Files.readString(f)).isEqualTo("old content");
        assertThat(names(dir)).containsExactly("weights.bin");

        assertThatThrownBy(() -> AtomicFiles.write(f, out -> { throw new IOException("device full"); }))
                .isInstanceOf(CheckpointException.class)
                .hasMessage("write " + f + ": device full");
        assertThat(Files.readString(f)).isEqualTo("old content");
        assertThat(names(dir)).containsExactly("weights.bin");
    }

    @Test
    void writeDirectoryReplacesAllFilesTogether() throws IOException {
        Path ckpt = dir.resolve("ckpt");
        AtomicFiles.writeDirectory(ckpt, d -> {
            Files.writeString(d.resolve("model.safetensors"), "w1");
            Files.writeString(d.resolve("optimizer.json"), "o1");
        });
        AtomicFiles.writeDirectory(ckpt, d -> Files.writeString(d.resolve("model.safetensors"), "w2"));
        assertThat(names(ckpt)).containsExactly("model.safetensors");
        assertThat(Files.readString(ckpt.resolve("model.safetensors"))).isEqualTo("w2");
        assertThat(names(dir)).containsExactly("ckpt");
    }

    @Test
    void writeDirectoryThrowingMidwayLeavesTheOldFolderIntact() throws IOException {
        Path ckpt = dir.resolve("ckpt");
        AtomicFiles.writeDirectory(ckpt, d -> {
            Files.writeString(d.resolve("model.safetensors"), "w1");
            Files.writeString(d.resolve("optimizer.json"), "o1");
        });
        assertThatThrownBy(() -> AtomicFiles.writeDirectory(ckpt, d -> {
            Files.writeString(d.resolve("model.safetensors"), "w2");
            throw new UncheckedIOException(new IOException("out of space"));
        })).isInstanceOf(UncheckedIOException.class);
        assertThat(names(ckpt)).containsExactly("model.safetensors", "optimizer.json");
        assertThat(Files.readString(ckpt.resolve("model.safetensors"))).isEqualTo("w1");
        assertThat(names(dir)).containsExactly("ckpt");
    }

    @Test
    void recoverDirectoryRestoresTheOldFolderAfterACrashBetweenRenames() throws IOException {
        Path ckpt = dir.resolve("ckpt");
        Path old = dir.resolve("ckpt.old");
        Files.createDirectory(old);
        Files.writeString(old.resolve("model.safetensors"), "w1");
        assertThat(AtomicFiles.recoverDirectory(ckpt)).isTrue();
        assertThat(Files.readString(ckpt.resolve("model.safetensors"))).isEqualTo("w1");
        assertThat(names(dir)).containsExactly("ckpt");
        assertThat(AtomicFiles.recoverDirectory(ckpt)).isFalse();
    }
    /** The real disk, noting each durability step as "force NAME", "sync NAME" or "rename FROM -> TO" (names relative to dir). */
    private AtomicFiles.Disk recording(java.util.List<String> log) {
        return new AtomicFiles.Disk() {
            @Override public void forceFile(Path file) throws IOException {
                AtomicFiles.DISK.forceFile(file);
                log.add("force " + dir.relativize(file));
            }

            @Override public void forceDirectory(Path d) {
                AtomicFiles.DISK.forceDirectory(d);
                log.add("sync " + (d.equals(dir) ? "." : dir.relativize(d)));
            }

            @Override public void rename(Path from, Path to) throws IOException {
                AtomicFiles.DISK.rename(from, to);
                log.add("rename " + dir.relativize(from) + " -> " + dir.relativize(to));
            }
        };
    }

    @Test
    void aFolderIsForcedFileByFileThenItselfBeforeTheSwapAndTheParentAfter() throws IOException {
        Path ckpt = dir.resolve("ck");
        AtomicFiles.writeDirectory(ckpt, d -> Files.writeString(d.resolve("a.json"), "v1"));
        java.util.List<String> log = new java.util.ArrayList<>();
        AtomicFiles.writeDirectory(ckpt, d -> {
            Files.writeString(d.resolve("b.safetensors"), "w2");
            Files.writeString(d.resolve("a.json"), "v2");
        }, recording(log));
        assertThat(log).containsExactly(
                "force ck.tmp/a.json", "force ck.tmp/b.safetensors", "sync ck.tmp",
                "rename ck -> ck.old", "rename ck.tmp -> ck", "sync .");
        assertThat(Files.readString(ckpt.resolve("a.json"))).isEqualTo("v2");
        assertThat(names(dir)).containsExactly("ck");
    }

    @Test
    void aFileIsForcedBeforeItsRenameAndItsFolderAfter() throws IOException {
        Path f = dir.resolve("state.json");
        java.util.List<String> log = new java.util.ArrayList<>();
        AtomicFiles.write(f, out -> out.write("one".getBytes()), recording(log));
        assertThat(log).hasSize(3);
        assertThat(log.get(0)).startsWith("force .state.json").endsWith(".tmp");
        assertThat(log.get(1)).isEqualTo("rename " + log.get(0).substring("force ".length()) + " -> state.json");
        assertThat(log.get(2)).isEqualTo("sync .");
        assertThat(Files.readString(f)).isEqualTo("one");
    }
}
