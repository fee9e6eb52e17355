// The byte-level mutator (fuzzers/mutate/mutate_bytes.h): thousands of
// mutations and crossovers of the encoded seeds stay within max_size and are
// canonical encodings of valid programs; too-long results lose calls from the
// end; text inputs and garbage are accepted; same seed, same bytes.
#include "fuzzers/mutate/mutate_bytes.h"

#include <gtest/gtest.h>

#include "fuzzers/mutate/rng.h"
#include "fuzzers/prog/encoding_binary.h"
#include "fuzzers/prog/encoding_text.h"
#include "tests/fuzzers/mutate_seeds.h"

namespace mcf::fuzz {
namespace {

using namespace mcf::fuzz::testing;

// Checks that out[0, n) is the canonical encoding of a valid program.
void expect_canonical(const std::vector<uint8_t>& buf, size_t n, const std::string& what) {
  std::vector<uint8_t> out(buf.begin(), buf.begin() + n);
  Program p = program_from_binary(out);
  std::string why;
  ASSERT_TRUE(is_valid(p, &why)) << what << ": " << why;
  ASSERT_LE(p.calls.size(), static_cast<size_t>(kMaxCalls)) << what;
  if (n > 0) ASSERT_EQ(program_to_binary(p), out) << what;
}

TEST(MutateBytes, ThousandsOfMutationsFitMaxSizeAndDecodeToValidPrograms) {
  int n = 0;
  for (const Program& seed : all_seeds()) {
    std::vector<uint8_t> enc = program_to_binary(seed);
    for (size_t max_size : {size_t{4096}, size_t{64}, size_t{24}, size_t{1}}) {
      for (unsigned s = 0; s < 300; ++s, ++n) {
        std::vector<uint8_t> buf(std::max(max_size, enc.size()));
        std::copy(enc.begin(), enc.end(), buf.begin());
        size_t in = std::min(enc.size(), max_size);  // libFuzzer never passes more than max_size
        size_t out = mutate_bytes(buf.data(), in, max_size, s);
        ASSERT_LE(out, max_size);
        expect_canonical(buf, out, "max_size " + std::to_string(max_size) + " seed " + std::to_string(s));
      }
    }
  }
  EXPECT_EQ(n, 6000);
}

TEST(MutateBytes, TooLongResultsLoseCallsFromTheEnd) {
  Program seed = video_seed();
  std::vector<uint8_t> enc = program_to_binary(seed);
  const size_t max_size = enc.size() / 2;
  int trimmed = 0;
  for (unsigned s = 0; s < 200; ++s) {
    Program want = program_from_binary(enc.data(), enc.size());
    MutationLog want_log = mutate(&want, s);
    std::vector<uint8_t> buf(enc);
    MutationLog log;
    size_t out = mutate_bytes(buf.data(), enc.size(), max_size, s, {}, &log);
    EXPECT_EQ(log.str(), want_log.str());
    Program got = program_from_binary(buf.data(), out);
    ASSERT_LE(got.calls.size(), want.calls.size());
    // A prefix of the mutated program: the longest that fits.
    EXPECT_TRUE(std::equal(got.calls.begin(), got.calls.end(), want.calls.begin()));
    if (got.calls.size() < want.calls.size()) {
      ++trimmed;
      Program one_more = got;
      one_more.calls.push_back(want.calls[got.calls.size()]);
      EXPECT_GT(program_to_binary(one_more).size(), max_size);
    }
  }
  EXPECT_GT(trimmed, 100);
}

TEST(MutateBytes, TextInputsAreMutatedIntoBinary) {
  std::string text = program_to_text(media_seed());
  ASSERT_TRUE(looks_like_text(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  for (unsigned s = 0; s < 100; ++s) {
    std::vector<uint8_t> buf(text.begin(), text.end());
    buf.resize(4096);
    Program before = media_seed();
    Program want = before;
    mutate(&want, s);
    size_t out = mutate_bytes(buf.data(), text.size(), buf.size(), s);
    expect_canonical(buf, out, "seed " + std::to_string(s));
    EXPECT_EQ(program_from_binary(buf.data(), out), want);  // the text meant media_seed()
  }
}

TEST(MutateBytes, GarbageInputsGiveValidOutputs) {
  Rng rng(17);
  for (unsigned s = 0; s < 1000; ++s) {
    std::vector<uint8_t> buf(512);
    size_t in = rng.below(buf.size());
    for (size_t i = 0; i < in; ++i) buf[i] = static_cast<uint8_t>(rng.next());
    size_t max_size = 1 + rng.below(buf.size());
    in = std::min(in, max_size);
    size_t out = mutate_bytes(buf.data(), in, max_size, s);
    ASSERT_LE(out, max_size);
    expect_canonical(buf, out, "seed " + std::to_string(s));
  }
}

TEST(MutateBytes, RawFieldBytesReachTheCallback) {
  MutateOptions opts;
  int calls = 0;
  opts.raw_mutate = [&](uint8_t* data, size_t size, size_t max_size) {
    ++calls;
    EXPECT_TRUE(size == 4 || size == 8);
    EXPECT_EQ(size, max_size);
    data[0] ^= 0xff;
    return size;
  };
  std::vector<uint8_t> enc = program_to_binary(subdev_seed());
  for (unsigned s = 0; s < 2000; ++s) {
    std::vector<uint8_t> buf(enc);
    buf.resize(4096);
    mutate_bytes(buf.data(), enc.size(), buf.size(), s, opts);
  }
  EXPECT_GT(calls, 0);
}

TEST(MutateBytes, ThousandsOfCrossoversFitAndAreValid) {
  std::vector<Program> seeds = all_seeds();
  int n = 0;
  for (const Program& a : seeds) {
    for (const Program& b : seeds) {
      std::vector<uint8_t> ea = program_to_binary(a), eb = program_to_binary(b);
      for (size_t max_out : {size_t{4096}, size_t{32}, size_t{2}}) {
        for (unsigned s = 0; s < 50; ++s, ++n) {
          std::vector<uint8_t> out(max_out);
          MutationLog log;
          size_t k = crossover_bytes(ea.data(), ea.size(), eb.data(), eb.size(), out.data(), max_out,
                                     s, {}, &log);
          ASSERT_LE(k, max_out);
          EXPECT_EQ(log.str(), "splice");
          expect_canonical(out, k, "crossover seed " + std::to_string(s));
        }
      }
    }
  }
  EXPECT_EQ(n, 3750);
}

TEST(MutateBytes, SameSeedSameBytes) {
  std::vector<uint8_t> a = program_to_binary(media_seed()), b = program_to_binary(subdev_seed());
  for (unsigned s = 0; s < 200; ++s) {
    std::vector<uint8_t> x(a), y(a);
    x.resize(1024);
    y.resize(1024);
    size_t nx = mutate_bytes(x.data(), a.size(), x.size(), s);
    size_t ny = mutate_bytes(y.data(), a.size(), y.size(), s);
    ASSERT_EQ(nx, ny);
    EXPECT_TRUE(std::equal(x.begin(), x.begin() + nx, y.begin()));
    std::vector<uint8_t> o1(1024), o2(1024);
    size_t n1 = crossover_bytes(a.data(), a.size(), b.data(), b.size(), o1.data(), o1.size(), s);
    size_t n2 = crossover_bytes(a.data(), a.size(), b.data(), b.size(), o2.data(), o2.size(), s);
    ASSERT_EQ(n1, n2);
    EXPECT_EQ(o1, o2);
  }
}

}  // namespace
}  // namespace mcf::fuzz
