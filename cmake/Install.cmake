# Install.cmake: what `cmake --install` puts under a prefix, and the .deb
# CPack makes of it (cpack -G DEB in the build folder; scripts/make_deb.sh).
#
#   bin/nnc                                the tool
#   lib/libnnrt.a, lib/libnnrt.so*         the runtime, static and shared
#   include/nnrt/*.h                       its headers (nnrt.h, nnrt_abi.h, ...)
#   share/nnc/std/*.nn                     the std library (`import std.layers`)
#   lib/cmake/nnc/                         find_package(nnc CONFIG): nnc::nnrt,
#                                          nnc::nnrt_shared, nnc::nnc, nnc_add_model()
#   lib/pkgconfig/nnc.pc                   for Makefiles: pkg-config --cflags --libs nnc
#
# The installed nnc finds the std library and the headers beside itself
# (Driver.cpp), so the prefix can move.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# nnc links libMLIR and libLLVM from /usr/lib/llvm-16/lib (and Open MPI
# from its own folder), which the loader does not search: the installed
# binary keeps those folders as its run path.
set_target_properties(nnc PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)
install(TARGETS nnc EXPORT nncTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS nnrt nnrt_shared EXPORT nncTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY runtime/include/nnrt DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY dsl/std DESTINATION ${CMAKE_INSTALL_DATADIR}/nnc FILES_MATCHING PATTERN "*.nn")

set(NNC_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/nnc)
install(EXPORT nncTargets NAMESPACE nnc:: DESTINATION ${NNC_CMAKE_INSTALL_DIR})
configure_package_config_file(cmake/nncConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/nncConfig.cmake
  INSTALL_DESTINATION ${NNC_CMAKE_INSTALL_DIR}
  PATH_VARS CMAKE_INSTALL_BINDIR CMAKE_INSTALL_DATADIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/nncConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/nncConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/nncConfigVersion.cmake
              cmake/NNC.cmake
        DESTINATION ${NNC_CMAKE_INSTALL_DIR})

# pkg-config: nnrt, and what generated model code needs besides (libm, and
# LLVM's OpenMP runtime for its parallel loops).
get_filename_component(NNC_OMP_DIR "${NNC_OMP_LIBRARY}" DIRECTORY)
# The prefix as the .pc file's own place (relocatable): lib/pkgconfig/../..
file(RELATIVE_PATH NNC_PC_UP "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
configure_file(cmake/nnc.pc.in ${CMAKE_CURRENT_BINARY_DIR}/nnc.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/nnc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The .deb: the files above under /usr, with the shared libraries nnc and
# libnnrt.so link found by dpkg-shlibdeps, and libomp-16-dev, which links
# the models an app builds.
set(CPACK_PACKAGE_NAME nnc)
set(CPACK_PACKAGE_VENDOR "nnc")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "compiler for neural networks written in .nn files, with its runtime")
set(CPACK_PACKAGE_CONTACT "nnc maintainers <nnc@localhost>")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libomp-16-dev")
include(CPack)
