# NNC.cmake: build-time compilation of .nn models into static libraries.
#
#   nnc_add_model(NAME FILE.nn [BATCH n] [PREFIX p] [MODEL m]
#                 [OPTIMIZER sgd|adam|rmsprop] [TARGET_CPU cpu])
#
# Runs `nnc compile FILE.nn -o <dir>` at build time, where
# <dir> = ${CMAKE_CURRENT_BINARY_DIR}/nnc_models/NAME, and creates an
# INTERFACE library NAME that carries <dir>/lib<prefix>.a, the include
# directory <dir> (so `#include "<prefix>.h"` and `#include "nnrt/nnrt_abi.h"`
# work), nnrt (the generated code's allocator), libm and the OpenMP runtime
# (libomp; OMP_NUM_THREADS sets the threads). Link an app with NAME and nnrt:
#
#   nnc_add_model(iris iris.nn)
#   target_link_libraries(iris-app PRIVATE iris nnrt)
#
# PREFIX is the C prefix nnc derives from the model name in the file (the
# model name in lower case): it names the generated files. It defaults to
# NAME in lower case. MODEL picks a model when the file has several.
#
# The command is re-run when the .nn file, the nnc binary or any file of the
# std library (${NNC_STDLIB_DIR}) changes. Variables: NNC_EXECUTABLE (default:
# the nnc target's binary) and NNC_STDLIB_DIR. An installed nnc sets both,
# and NNC_RUNTIME_TARGET (nnc::nnrt), in find_package(nnc CONFIG).

# Script mode (run by the build after nnc): check that nnc wrote the header
# the target expects, and name the prefix it used when it did not.
if(CMAKE_SCRIPT_MODE_FILE AND NNC_CHECK_HEADER)
  if(NOT EXISTS "${NNC_CHECK_HEADER}")
    get_filename_component(d "${NNC_CHECK_HEADER}" DIRECTORY)
    file(GLOB written RELATIVE "${d}" "${d}/*.h")
    message(FATAL_ERROR "nnc_add_model: nnc did not write ${NNC_CHECK_HEADER} "
      "(it wrote: ${written}); pass PREFIX <name> to nnc_add_model with the "
      "file's model name in lower case")
  endif()
  return()
endif()

include_guard(GLOBAL)
set(NNC_CMAKE_FILE "${CMAKE_CURRENT_LIST_FILE}" CACHE INTERNAL "")
# Generated code calls the OpenMP runtime (LLVM's libomp) for its parallel
# matrix products.
find_library(NNC_OMP_LIBRARY NAMES omp HINTS /usr/lib/llvm-16/lib REQUIRED)

function(nnc_add_model NAME FILE)
  cmake_parse_arguments(PARSE_ARGV 2 ARG "" "BATCH;PREFIX;MODEL;OPTIMIZER;TARGET_CPU" "")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "nnc_add_model(${NAME}): unexpected arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(ARG_KEYWORDS_MISSING_VALUES)
    message(FATAL_ERROR "nnc_add_model(${NAME}): no value for ${ARG_KEYWORDS_MISSING_VALUES}")
  endif()

  get_filename_component(src "${FILE}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${src}")
    message(FATAL_ERROR "nnc_add_model(${NAME}): no such file: ${src}")
  endif()
  if(ARG_PREFIX)
    set(prefix "${ARG_PREFIX}")
  else()
    string(TOLOWER "${NAME}" prefix)
  endif()

  if(NNC_EXECUTABLE)
    set(nnc_cmd "${NNC_EXECUTABLE}")
    set(nnc_dep "${NNC_EXECUTABLE}")
  elseif(TARGET nnc)
    set(nnc_cmd "$<TARGET_FILE:nnc>")
    set(nnc_dep nnc)
  else()
    message(FATAL_ERROR "nnc_add_model(${NAME}): no nnc target and no NNC_EXECUTABLE")
  endif()

  set(flags)
  if(ARG_BATCH)
    list(APPEND flags --batch "${ARG_BATCH}")
  endif()
  if(ARG_MODEL)
    list(APPEND flags --model "${ARG_MODEL}")
  endif()
  if(ARG_OPTIMIZER)
    list(APPEND flags --optimizer "${ARG_OPTIMIZER}")
  endif()
  if(ARG_TARGET_CPU)
    list(APPEND flags --target-cpu "${ARG_TARGET_CPU}")
  endif()

  set(stdlib_deps)
  set(env)
  if(NNC_STDLIB_DIR)
    file(GLOB_RECURSE stdlib_deps CONFIGURE_DEPENDS "${NNC_STDLIB_DIR}/*.nn")
    set(env ${CMAKE_COMMAND} -E env "NNC_STDLIB=${NNC_STDLIB_DIR}")
  endif()

  set(dir "${CMAKE_CURRENT_BINARY_DIR}/nnc_models/${NAME}")
  set(lib "${dir}/lib${prefix}.a")
  set(hdr "${dir}/${prefix}.h")
  add_custom_command(
    OUTPUT "${lib}" "${hdr}" "${dir}/nnrt/nnrt_abi.h"
    COMMAND ${CMAKE_COMMAND} -E rm -f "${lib}" "${hdr}"
    COMMAND ${env} ${nnc_cmd} compile "${src}" -o "${dir}" ${flags}
    # nnc names the files after the model; fail here, not at link time, when
    # PREFIX does not match it.
    COMMAND ${CMAKE_COMMAND} "-DNNC_CHECK_HEADER=${hdr}" -P "${NNC_CMAKE_FILE}"
    DEPENDS "${src}" ${nnc_dep} ${stdlib_deps} "${NNC_CMAKE_FILE}"
    COMMENT "nnc: compiling ${FILE} (model library ${NAME})"
    VERBATIM)
  add_custom_target(${NAME}_nnc_gen DEPENDS "${lib}" "${hdr}")

  # The archive as an imported target that depends on nnrt (the generated
  # code allocates through runtime/src/alloc.c), so CMake puts nnrt after it
  # on the link line whatever order an app lists them in.
  add_library(${NAME}_archive STATIC IMPORTED GLOBAL)
  set_target_properties(${NAME}_archive PROPERTIES IMPORTED_LOCATION "${lib}")
  if(NOT NNC_RUNTIME_TARGET)
    set(NNC_RUNTIME_TARGET nnrt) # in nnc's own build; nnc::nnrt when installed
  endif()
  target_link_libraries(${NAME}_archive INTERFACE
                        $<$<TARGET_EXISTS:${NNC_RUNTIME_TARGET}>:${NNC_RUNTIME_TARGET}> m
                        "${NNC_OMP_LIBRARY}")
  add_library(${NAME} INTERFACE)
  add_dependencies(${NAME} ${NAME}_nnc_gen)
  target_include_directories(${NAME} INTERFACE "${dir}")
  target_link_libraries(${NAME} INTERFACE ${NAME}_archive)
  set_target_properties(${NAME} PROPERTIES
    NNC_MODEL_LIBRARY "${lib}" NNC_MODEL_HEADER "${hdr}" NNC_MODEL_SOURCE "${src}")
endfunction()
