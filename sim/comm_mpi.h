/* The CLI's exchange between ranks over MPI (include/apical/comm.h). Not
 * part of the library: only build/apical links MPI. */
#ifndef APICAL_COMM_MPI_H
#define APICAL_COMM_MPI_H

#include "apical/comm.h"

/* Under mpirun (Open MPI's or a PMI launcher's environment), initialises
 * MPI and returns the world communicator; *out = NULL otherwise, or when
 * apical was built without MPI (then started under mpirun: an error, since
 * every rank would run the whole network). */
apical_status apical_comm_mpi_start(int *argc, char ***argv, apical_comm **out,
                                    apical_error *err);
/* Finalises MPI if it was started; NULL does nothing. */
void apical_comm_mpi_end(apical_comm *c);

#endif
