// The unit object cache: one file per key, written aside and renamed.
#include "nnc/CodeGen/ObjectCache.h"
#include "nnc/CodeGen/Pipeline.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Host.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <vector>

using namespace llvm;

namespace nnc {

std::string ObjectCache::path(StringRef key) const { return dir_ + "/" + key.str() + ext_; }

bool ObjectCache::load(StringRef key, SmallVectorImpl<char> &object) const {
  if (dir_.empty())
    return false;
  std::string p = path(key);
  auto buf = MemoryBuffer::getFile(p);
  if (!buf)
    return false;
  ArrayRef<char> bytes((*buf)->getBufferStart(), (*buf)->getBufferSize());
  std::vector<ArrayRef<char>> objects;
  bool whole = splitObjectBundle(bytes, objects);
  for (size_t i = 0; whole && i < objects.size(); ++i) {
    auto file = object::ObjectFile::createObjectFile(
        MemoryBufferRef(StringRef(objects[i].data(), objects[i].size()), key));
    if (!file) {
      consumeError(file.takeError());
      whole = false;
    }
  }
  if (!whole) { // damaged: compile again, and the store replaces it
    sys::fs::remove(p);
    return false;
  }
  object.assign((*buf)->getBufferStart(), (*buf)->getBufferEnd());
  int fd;
  if (!sys::fs::openFileForWrite(p, fd, sys::fs::CD_OpenExisting, sys::fs::OF_Append)) {
    sys::fs::setLastAccessAndModificationTime(fd, std::chrono::system_clock::now());
    sys::Process::SafelyCloseFileDescriptor(fd);
  }
  return true;
}

void ObjectCache::store(StringRef key, ArrayRef<char> object) const {
  if (dir_.empty())
    return;
  std::string p = path(key);
  SmallString<256> tmp;
  int fd = -1;
  if (sys::fs::create_directories(dir_) || sys::fs::createUniqueFile(p + ".%%%%%%.tmp", fd, tmp))
    return;
  raw_fd_ostream out(fd, /*shouldClose=*/true);
  out.write(object.data(), object.size());
  out.close();
  if (out.has_error() || sys::fs::rename(tmp, p)) {
    out.clear_error();
    sys::fs::remove(tmp);
  }
}

void ObjectCache::remove(StringRef key) const {
  if (!dir_.empty())
    sys::fs::remove(path(key));
}

void ObjectCache::prune(size_t keep) const {
  if (dir_.empty())
    return;
  std::vector<std::pair<sys::TimePoint<>, std::string>> objects;
  std::error_code ec;
  for (sys::fs::directory_iterator it(dir_, ec), end; it != end && !ec; it.increment(ec)) {
    sys::fs::file_status st;
    if (StringRef(it->path()).endswith(ext_) && !sys::fs::status(it->path(), st))
      objects.emplace_back(st.getLastModificationTime(), it->path());
  }
  if (objects.size() <= keep)
    return;
  std::sort(objects.begin(), objects.end());
  for (size_t i = 0; i + keep < objects.size(); ++i)
    sys::fs::remove(objects[i].second);
}

namespace {

const std::string &compilerIdentity() {
  static const std::string id = [] {
    auto self = MemoryBuffer::getFile("/proc/self/exe");
    if (!self)
      return std::string(); // no way to tell this compiler from another
    SHA256 h;
    h.update(LLVM_VERSION_STRING);
    h.update((*self)->getBuffer());
    std::array<uint8_t, 32> digest = h.final();
    return toHex(digest, /*LowerCase=*/true);
  }();
  return id;
}

} // namespace

std::string cacheSalt(const CodeGenOptions &opts) {
  const std::string &id = compilerIdentity();
  if (id.empty())
    return "";
  std::string salt = id + "|" + opts.targetCPU + "|" + opts.targetFeatures;
  if (opts.targetCPU.empty()) {
    salt += "|" + sys::getHostCPUName().str();
    StringMap<bool> host;
    if (sys::getHostCPUFeatures(host)) {
      std::vector<std::string> features;
      for (auto &f : host)
        features.push_back((f.second ? "+" : "-") + f.first().str());
      llvm::sort(features);
      for (const std::string &f : features)
        salt += "," + f;
    }
  }
  return salt;
}

} // namespace nnc
