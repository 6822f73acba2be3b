package io.haven.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DataSizeTest {

    @ParameterizedTest
    @CsvSource(delimiter = '=', value = {
        "512 = 512",
        "0 = 0",
        "4k = 4096",
        "4K = 4096",
        "4KiB = 4096",
        "4 kb = 4096",
        "20MiB = 20971520",
        "20m = 20971520",
        "1.5G = 1610612736",
        "1.5 GiB = 1610612736",
        "2T = 2199023255552",
        "0.5k = 512",
        "512B = 512",
        "'  7 M ' = 7340032",
    })
    void parsesSizesWithBinaryUnits(String text, long bytes) {
        assertThat(DataSize.parse(text).bytes()).isEqualTo(bytes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "abc", "-1", "1.5.2", "5 x", "k", "1e3", "1,5G", "4 kk", "12 MiBs"})
    void refusesWhatIsNotASize(String text) {
        assertThatThrownBy(() -> DataSize.parse(text)).isInstanceOfSatisfying(HavenException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.USAGE);
            assertThat(e.getMessage()).contains(text);
        });
    }

    @Test
    void formatsForPeople() {
        assertThat(DataSize.format(0)).isEqualTo("0 B");
        assertThat(DataSize.format(1)).isEqualTo("1 B");
        assertThat(DataSize.format(1023)).isEqualTo("1023 B");
        assertThat(DataSize.format(1024)).isEqualTo("1.0 KiB");
        assertThat(DataSize.format(1434)).isEqualTo("1.4 KiB");
        assertThat(DataSize.format(20L << 20)).isEqualTo("20.0 MiB");
        assertThat(DataSize.format(150L << 20)).isEqualTo("150 MiB");
        assertThat(DataSize.format(1536L << 20)).isEqualTo("1.5 GiB");
        assertThat(DataSize.format(3L << 40)).isEqualTo("3.0 TiB");
        assertThat(DataSize.format(5L << 50)).isEqualTo("5.0 PiB");
        assertThat(DataSize.format(Long.MAX_VALUE)).isEqualTo("8192 PiB");
    }

    @Test
    void toStringIsTheFormattedSize() {
        assertThat(DataSize.ofMebibytes(20)).hasToString("20.0 MiB");
        assertThat(DataSize.ofBytes(512)).hasToString("512 B");
    }

    @Test
    void parseAndFormatAgree() {
        for (String s : new String[] {"1.5 GiB", "20.0 MiB", "512 B", "150 MiB"}) {
            assertThat(DataSize.parse(s).toString()).isEqualTo(s);
        }
    }

    @Test
    void sizesCompareByBytes() {
        assertThat(DataSize.parse("1k")).isLessThan(DataSize.parse("1025")).isEqualTo(DataSize.ofBytes(1024));
        assertThat(DataSize.ofMebibytes(1)).isEqualByComparingTo(DataSize.parse("1024k"));
    }

    @Test
    void aSizeCannotBeNegative() {
        assertThatThrownBy(() -> DataSize.ofBytes(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
